import { statSync, type BigIntStats } from "node:fs";
import { performance } from "node:perf_hooks";
import type Database from "better-sqlite3";
import { DbHealthError, fileKind, type ClassifiedError, type DialectCall } from "@alfred/db-health-core";
import type { SqliteOpenOptions } from "./sqlite-options.js";

type Db = InstanceType<typeof Database>;

/**
 * Turns on WAL. A file in a directory or file system that refuses writes still opens and reads,
 * so that is returned as the reason rather than thrown; so is a lock held by another connection
 * (`"locked"`), unless `throwIfLocked`.
 */
export function setWal(d: Db, throwIfLocked = false): string {
  try {
    d.pragma("journal_mode = WAL");
    return "done";
  } catch (err) {
    const unwritable = unwritableReason(err);
    if (unwritable) return unwritable;
    if (isBusy(err) && !throwIfLocked) return "locked";
    throw err;
  }
}

/** Why the file refuses writes (a read-only directory or file system), when that is what `err` says. */
export function unwritableReason(err: unknown): string | undefined {
  const code = String((err as { code?: unknown } | undefined)?.code ?? "");
  return /^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(code) ? `${(err as Error).message} (${code})` : undefined;
}

/** What {@link quickCheck} returns when another connection's lock kept it from running. */
export const QUICK_CHECK_LOCKED = "skipped (database is locked)";

/** Runs `PRAGMA quick_check` when the database is small enough that it cannot stall the probe. */
export function quickCheck(d: Db, maxBytes: number): string {
  try {
    const bytes = (d.pragma("page_size", { simple: true }) as number) * (d.pragma("page_count", { simple: true }) as number);
    if (bytes > maxBytes) return `skipped (${bytes} bytes is over quick_check_max_bytes=${maxBytes})`;
    const rows = d.pragma("quick_check(5)") as Array<{ quick_check: string }>;
    return rows.map((r) => r.quick_check).join("; ");
  } catch (err) {
    // Another connection's exclusive lock: the write and read phases report it.
    if (isBusy(err)) return QUICK_CHECK_LOCKED;
    throw err;
  }
}

/**
 * What the path names, before SQLite opens it: a missing file is reported as such (not as
 * SQLite's "unable to open database file"), and anything but a regular file is refused. SQLite
 * would read a FIFO or a device (and write to a disk device) as if it were a database.
 */
export function checkFile(open: SqliteOpenOptions): BigIntStats | undefined {
  let stats;
  try {
    // bigint: a plain stat of a FIFO would poison the process-wide array Node's realpathSync reads (see core's read-file.ts).
    stats = statSync(open.path, { bigint: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") throw new DbHealthError("connect", `cannot open the database file ${open.path}: ${code ?? "error"}`, { driver: "sqlite" });
    if (!open.fileMustExist) return undefined;
    throw new DbHealthError(
      "connect",
      `no database file at ${open.path}: a SQLite target is opened, never created, unless its DSN says mode=rwc (file:PATH?mode=rwc)`,
      { driver: "sqlite" },
    );
  }
  if (!stats.isFile()) {
    throw new DbHealthError("connect", `${open.path} is ${fileKind(stats)}, not a regular file: point the DSN at the SQLite database file`, { driver: "sqlite" });
  }
  return stats;
}

/**
 * A file, whatever its path: its device and inode, and when it was created. A file system hands
 * a freed inode number to the next file created (ext4 does, at once): `rm app.db` and a new
 * `app.db` can share device and inode, and only the birth time tells them apart (0 where the
 * file system keeps none).
 */
export type FileId = Pick<BigIntStats, "dev" | "ino" | "birthtimeNs">;

/** Whether two identities are the same file. */
export const sameFile = (a: FileId, b: FileId): boolean => a.dev === b.dev && a.ino === b.ino && a.birthtimeNs === b.birthtimeNs;

/** The identity of what `stats` describes. */
export const fileId = ({ dev, ino, birthtimeNs }: BigIntStats): FileId => ({ dev, ino, birthtimeNs });

/** Which file a path names now, or `undefined` when it names none. */
export function fileAt(path: string): FileId | undefined {
  try {
    return fileId(statSync(path, { bigint: true }));
  } catch {
    return undefined;
  }
}

/** Another connection holds the lock. */
export function isBusy(err: unknown): boolean {
  return /^SQLITE_(BUSY|LOCKED)/.test(String((err as { code?: unknown } | undefined)?.code ?? ""));
}

const CODE_KINDS: Record<string, ClassifiedError["kind"]> = {
  SQLITE_BUSY: "timeout",
  SQLITE_LOCKED: "timeout",
  SQLITE_READONLY: "readonly",
  SQLITE_PERM: "permission",
  SQLITE_AUTH: "permission",
  SQLITE_CANTOPEN: "connect",
  SQLITE_NOTADB: "connect",
  SQLITE_CORRUPT: "query",
  SQLITE_FULL: "query",
  SQLITE_IOERR: "query",
};

/**
 * The SQLite driver's error hook: the kind of a better-sqlite3 error by its (extended) code,
 * its message with the code (`database is locked (SQLITE_BUSY)`), and whether the health table
 * is missing (`no such table`).
 *
 * @example
 * ```ts
 * classifySqliteError(Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" })); // { kind: "timeout", … }
 * ```
 */
export function classifySqliteError(err: unknown): ClassifiedError {
  const code = (err as { code?: unknown } | undefined)?.code;
  // Extended codes (SQLITE_READONLY_DIRECTORY, SQLITE_IOERR_WRITE) share their primary code's kind.
  const kind = typeof code === "string" ? CODE_KINDS[code.split("_").slice(0, 2).join("_")] : undefined;
  const message = err instanceof Error ? err.message : String(err);
  return { ...(kind ? { kind } : {}), message: `${message}${typeof code === "string" ? ` (${code})` : ""}`, tableMissing: err instanceof Error && /no such table/i.test(err.message) };
}

/** Longest pause between two tries of a statement that found the database locked. */
const MAX_LOCK_PAUSE_MS = 25;

/**
 * Runs `step`, trying again while the database is locked. SQLite waits for a lock by sleeping in
 * C, on the event loop's thread: with a busy_timeout a locked file would stall every other target,
 * /healthz and the scrapes for up to the phase deadline. So the busy timeout stays 0 (SQLITE_BUSY
 * at once) and the wait happens here, on the event loop: a short backoff until 90 % of what is
 * left of the phase deadline, so SQLite's own "database is locked" arrives before core's deadline;
 * once only when the call says not to wait for locks.
 */
export async function patiently<T>({ deadline, waitForLocks = true }: DialectCall, step: () => T): Promise<T> {
  const until = waitForLocks ? performance.now() + (deadline - performance.now()) * 0.9 : 0;
  for (let pause = 1; ; pause = Math.min(pause * 2, MAX_LOCK_PAUSE_MS)) {
    try {
      return step();
    } catch (err) {
      if (!isBusy(err) || performance.now() + pause >= until) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
