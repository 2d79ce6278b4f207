/**
 * Reading the small files a probe is configured with (certificates, keys, password files) so
 * that a hostile or mistaken path cannot stall or exhaust the process: a FIFO would block in
 * open() forever, /dev/zero would be read until memory runs out.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";
import { DbHealthError } from "./errors.js";

/** Size limits for {@link readFileLimited}, by what the file holds. */
export const FILE_LIMITS = {
  /** A password or a DSN (`*_FILE`, `passwordFile`, `dsnFile`, `PGPASSWORD_FILE`). */
  secret: 64 * 1024,
  /** One PEM file: a certificate, a chain, a CA bundle or a key. */
  pem: 1024 * 1024,
} as const;

// O_NONBLOCK: open() of a FIFO returns at once instead of waiting for a writer (a regular file
// ignores the flag). Not defined on Windows, where FIFOs are not files.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/**
 * Reads a regular file of at most `maxBytes`. Anything else (a FIFO, a device, a directory, a
 * socket, a larger file) is refused without reading it, and a file that grows past the limit
 * while it is read is refused too.
 *
 * @throws {DbHealthError} kind `"config"`, whose message says what is wrong in words that follow
 * the path: `is a FIFO, not a regular file`, `is 2.0 MiB, over the 1 MiB limit`,
 * `cannot be read (ENOENT)`. Callers prefix it with where the path came from.
 * @example
 * ```ts
 * try {
 *   tls.ca = readFileLimited(params.sslrootcert, FILE_LIMITS.pem);
 * } catch (err) {
 *   throw new DbHealthError("config", `sslrootcert=${params.sslrootcert} ${errorMessage(err)}`);
 * }
 * ```
 */
export function readFileLimited(path: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (err) {
    throw new DbHealthError("config", `cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new DbHealthError("config", `is ${fileKind(stats)}, not a regular file`);
    if (stats.size > maxBytes) throw tooLarge(stats.size, maxBytes);
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) throw tooLarge(length, maxBytes, true);
    }
    return buffer.subarray(0, length);
  } catch (err) {
    if (err instanceof DbHealthError) throw err;
    throw new DbHealthError("config", `cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  } finally {
    closeSync(fd);
  }
}

/**
 * What kind of file `stats` describes, for messages: "a directory", "a FIFO", …
 *
 * @example
 * ```ts
 * fileKind(statSync("/dev/zero")); // "a character device"
 * ```
 */
export function fileKind(stats: Stats): string {
  if (stats.isFile()) return "a regular file";
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  return "a special file";
}

function tooLarge(bytes: number, maxBytes: number, growing = false): DbHealthError {
  if (growing) return new DbHealthError("config", `grew past the ${formatBytes(maxBytes)} limit while it was read`);
  return new DbHealthError("config", `is ${formatBytes(bytes)}, over the ${formatBytes(maxBytes)} limit`);
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const [unit, size] = bytes < 1024 * 1024 ? ["KiB", bytes / 1024] : ["MiB", bytes / (1024 * 1024)];
  return `${Number.isInteger(size) ? size : size.toFixed(1)} ${unit}`;
}
