/**
 * One temp directory per server, so destroy() is a single rm -rf. When we are root it belongs to
 * the server's OS user:
 *   base/             0755  traversable, so other users can reach the socket
 *   base/data         0700  the data directory (PostgreSQL refuses a group/world-accessible one)
 *   base/sock         0755  unix sockets
 *   base/tmp          0700  the server's own tmpdir: never the shared /tmp, where a starting mariadbd
 *                           deletes every `#sql*` file, including another server's bootstrap tables
 *   base/tls/         ca.crt, server.crt, server.key (0600) when TLS is on
 *   base/server.log   the server's stdout and stderr
 */
import { chmod, mkdir, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { giveTo } from "./exec.js";

export interface Layout {
  /** the OS user that owns the files and runs the server when we are root */
  owner: string;
  base: string;
  dataDir: string;
  socketDir: string;
  tmpDir: string;
  tlsDir: string;
  logFile: string;
}

const LOG_TAIL_LINES = 40;

/** Creates the layout under a fresh `<tmpdir>/<prefix>XXXXXX`. */
export async function makeLayout(prefix: string, owner: string): Promise<Layout> {
  const base = await mkdtemp(join(tmpdir(), prefix));
  const layout: Layout = {
    owner,
    base,
    dataDir: join(base, "data"),
    socketDir: join(base, "sock"),
    tmpDir: join(base, "tmp"),
    tlsDir: join(base, "tls"),
    logFile: join(base, "server.log"),
  };
  await chmod(base, 0o755);
  await giveTo(owner, base);
  for (const [dir, mode] of [[layout.dataDir, 0o700], [layout.socketDir, 0o755], [layout.tmpDir, 0o700]] as const) {
    await mkdir(dir);
    await chmod(dir, mode); // mkdir's mode is filtered by the umask
    await giveTo(owner, dir);
  }
  return layout;
}

/** The last lines of the server log, for error messages. */
export async function logTail(layout: Layout): Promise<string> {
  try {
    const text = (await readFile(layout.logFile, "utf8")).trimEnd();
    return text === "" ? "(empty server log)" : text.split("\n").slice(-LOG_TAIL_LINES).join("\n");
  } catch {
    return "(no server log)";
  }
}

/** Marks error messages that already carry a server log, so wrappers do not add it twice. */
export const LOG_MARK = "--- server log";

/** `message: cause` followed by the server log's tail. */
export async function withLog(layout: Layout, message: string, cause: unknown): Promise<Error> {
  const detail = cause === undefined ? "" : `: ${cause instanceof Error ? cause.message : String(cause)}`;
  return new Error(`${message}${detail}\n${LOG_MARK} (${layout.logFile}) ---\n${await logTail(layout)}`, { cause });
}
