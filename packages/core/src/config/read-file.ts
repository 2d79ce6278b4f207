/**
 * Reading the small files a probe is configured with (secrets, configuration files, certificates
 * and keys) so that no path can stall or exhaust the process, whatever it points at:
 *
 * - opened with O_NONBLOCK, so that a FIFO without a writer does not block in open() (a blocked
 *   open() cannot be interrupted: not by SIGTERM, and not even by exit(), which waits for it);
 * - with O_NOCTTY, so that a terminal device never becomes the controlling terminal;
 * - then fstat'ed: anything but a regular file (FIFO, device, directory, socket) is refused
 *   (`/dev/zero` would otherwise be read until memory runs out), and so is a file over its limit;
 * - then read to at most limit + 1 bytes, since a file can grow between fstat and read, and some
 *   (`/proc`) report a size of 0.
 *
 * Errors never quote the content.
 *
 * Every stat here asks for bigint fields: Node's realpathSync (which the module loader uses)
 * reads the process-wide array that a plain sync stat fills, without refreshing it on a cache
 * hit; after a plain stat of a FIFO or socket it stops resolving symlinks, and the next package
 * imported through pnpm's links is "not found". The bigint form fills a separate array.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type BigIntStats, type Stats } from "node:fs";
import { open } from "node:fs/promises";
import { DbHealthError } from "../contract/errors.js";

/** The most a file may weigh, and how messages name what it holds. */
export interface FileLimit {
  bytes: number;
  /** "a secret file", "a PEM file": completes "over the 64 KiB limit for …". */
  label: string;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Limits for the files drivers and plugins read. A password or DSN is a few hundred bytes, a PEM
 * chain a few KiB.
 */
export const FILE_LIMITS = {
  /** A password or a DSN (`*_FILE`, `passwordFile`, `dsnFile`, `PGPASSWORD_FILE`). */
  secret: { bytes: 64 * KiB, label: "a secret file" },
  /** One PEM file: a certificate, a chain, a CA bundle or a key. */
  pem: { bytes: 1 * MiB, label: "a PEM file" },
} as const satisfies Record<string, FileLimit>;

// Both are 0 where the platform lacks them (Windows): plain O_RDONLY then.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);
const CHUNK = 64 * 1024;

/**
 * A file that was not read, and why: `cannot read "/dev/zero": it is a character device, not a
 * regular file`, `cannot read "x.yaml": it is 9.1 MiB, over the 8 MiB limit for a configuration
 * file`, `cannot read "pw": ENOENT`. Callers put the source (flag, variable, YAML key) in front.
 */
export class UnreadableFile extends DbHealthError {
  constructor(
    readonly path: string,
    /** What is wrong, without the path: `ENOENT`, `it is a FIFO, not a regular file`. */
    readonly detail: string,
  ) {
    super("config", `cannot read ${JSON.stringify(path)}: ${detail}`);
  }
}

/**
 * Why a file of this type cannot be read as configuration, or `undefined` for a regular file.
 *
 * @example
 * ```ts
 * notRegular(statSync("/dev/zero", { bigint: true })); // "it is a character device, not a regular file"
 * ```
 */
export function notRegular(stats: BigIntStats | Stats): string | undefined {
  return stats.isFile() ? undefined : `it is ${fileKind(stats)}, not a regular file`;
}

/**
 * What kind of file `stats` describes, for messages: "a directory", "a FIFO", …
 *
 * @example
 * ```ts
 * fileKind(statSync("/dev/zero", { bigint: true })); // "a character device"
 * ```
 */
export function fileKind(stats: BigIntStats | Stats): string {
  if (stats.isFile()) return "a regular file";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isDirectory()) return "a directory";
  if (stats.isSocket()) return "a socket";
  return "not a file";
}

/**
 * Checks a path without opening it (stat never blocks): for files that are read later or by
 * someone else (the web config when the daemon starts, a plugin that Node imports).
 *
 * @param limit limits the size too; without it only the type is checked.
 * @throws {UnreadableFile} when the path is missing (detail `ENOENT`), not a regular file, or
 * over the limit.
 * @example
 * ```ts
 * checkFileSync("/etc/healthcheck/web.yml", { bytes: 1024 * 1024, label: "a web config file" });
 * ```
 */
export function checkFileSync(path: string, limit?: FileLimit): void {
  let stats: BigIntStats;
  try {
    stats = statSync(path, { bigint: true });
  } catch (err) {
    throw new UnreadableFile(path, errnoOf(err));
  }
  refuse(path, stats, limit);
}

/**
 * Reads a whole file of at most `limit.bytes`, bounded as described above.
 *
 * @throws {UnreadableFile} naming the file and what is wrong.
 * @example
 * ```ts
 * const password = readFileSyncLimited("/run/secrets/db-password", FILE_LIMITS.secret).toString("utf8");
 * ```
 */
export function readFileSyncLimited(path: string, limit: FileLimit): Buffer {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (err) {
    throw openFailure(path, err);
  }
  try {
    refuse(path, fstatSync(fd, { bigint: true }), limit);
    const content = new Collector(path, limit);
    for (let chunk = content.next(); chunk; chunk = content.next()) content.add(readSync(fd, chunk, 0, chunk.length, null));
    return content.result();
  } catch (err) {
    throw err instanceof UnreadableFile ? err : new UnreadableFile(path, errnoOf(err));
  } finally {
    closeSync(fd);
  }
}

/**
 * {@link readFileSyncLimited} without blocking the event loop.
 *
 * @example
 * ```ts
 * const text = (await readFileLimited("healthcheck.yaml", { bytes: 8 * 1024 * 1024, label: "a configuration file" })).toString("utf8");
 * ```
 */
export async function readFileLimited(path: string, limit: FileLimit): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (err) {
    throw openFailure(path, err);
  }
  try {
    refuse(path, await handle.stat({ bigint: true }), limit);
    const content = new Collector(path, limit);
    for (let chunk = content.next(); chunk; chunk = content.next()) content.add((await handle.read(chunk, 0, chunk.length, null)).bytesRead);
    return content.result();
  } catch (err) {
    throw err instanceof UnreadableFile ? err : new UnreadableFile(path, errnoOf(err));
  } finally {
    await handle.close();
  }
}

/** Chunks read so far; `next()` is the buffer for the next read, `undefined` once done. */
class Collector {
  private readonly chunks: Buffer[] = [];
  private total = 0;
  private done = false;
  private pending: Buffer | undefined;
  private readonly limit: number;

  constructor(
    private readonly path: string,
    private readonly max: FileLimit,
  ) {
    this.limit = max.bytes;
  }

  next(): Buffer | undefined {
    // Never more than limit + 1 bytes in all: one byte past the limit proves it too long.
    this.pending = this.done ? undefined : Buffer.allocUnsafe(Math.min(CHUNK, this.limit + 1 - this.total));
    return this.pending;
  }

  add(bytesRead: number): void {
    if (bytesRead === 0) {
      this.done = true;
      return;
    }
    this.chunks.push(this.pending!.subarray(0, bytesRead));
    this.total += bytesRead;
    if (this.total > this.limit) {
      const { bytes, label } = this.max;
      throw new UnreadableFile(this.path, `it holds more than ${formatBytes(bytes)}, the limit for ${label}`);
    }
  }

  result(): Buffer {
    return Buffer.concat(this.chunks, this.total);
  }
}

function refuse(path: string, stats: BigIntStats, limit: FileLimit | undefined): void {
  const wrongType = notRegular(stats);
  if (wrongType) throw new UnreadableFile(path, wrongType);
  if (limit === undefined) return;
  const { bytes, label } = limit;
  const size = Number(stats.size);
  if (size > bytes) throw new UnreadableFile(path, `it is ${formatBytes(size)}, over the ${formatBytes(bytes)} limit for ${label}`);
}

// open() itself refuses a socket (ENXIO): stat, which never blocks, tells what the path is.
function openFailure(path: string, err: unknown): UnreadableFile {
  try {
    const wrongType = notRegular(statSync(path, { bigint: true }));
    if (wrongType) return new UnreadableFile(path, wrongType);
  } catch {
    // the open error below says it better
  }
  return new UnreadableFile(path, errnoOf(err));
}

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? "error";
}

/**
 * A byte count as messages show it: `9.1 MiB`, `64 KiB`, `300 bytes`.
 *
 * @example
 * ```ts
 * formatBytes(9.1 * 1024 * 1024); // "9.1 MiB"
 * formatBytes(65536);             // "64 KiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  const unit = (size: number, name: string): string => `${Number((bytes / size).toFixed(1))} ${name}`;
  if (bytes >= MiB) return unit(MiB, "MiB");
  if (bytes >= KiB) return unit(KiB, "KiB");
  return `${bytes} bytes`;
}
