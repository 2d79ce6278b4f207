/**
 * Real special files for tests of what the CLI refuses to read: a FIFO (which nobody ever
 * writes to) and a listening unix socket, in a directory of the caller's. Under __fixtures__ so
 * that the build leaves it out.
 */
import { execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

/**
 * Makes `fifo` and `socket` in `dir`; `close()` stops the socket's server (the caller removes `dir`).
 *
 * @example
 * ```ts
 * const special = await specialFiles(dir); readFileSyncLimited(special.fifo, "secret"); special.close();
 * ```
 */
export async function specialFiles(dir: string): Promise<{ fifo: string; socket: string; close: () => void }> {
  const fifo = join(dir, "fifo");
  const socket = join(dir, "socket");
  execFileSync("mkfifo", [fifo]);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { fifo, socket, close: () => server.close() };
}
