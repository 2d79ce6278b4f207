import type Database from "better-sqlite3";
import { DbHealthError, type DialectCall } from "@alfred/db-health-core";
import { patiently } from "./sqlite-file.js";

type Db = InstanceType<typeof Database>;

/** Why {@link checkStatement} refused a query: the kind of the DbHealthError it becomes. */
export type CheckRefusal = "permission" | "query";

/**
 * Runs one custom check on `db` and returns the first column of its first row (`undefined`
 * without a row); throws SQLite's own error (a locked file: `SQLITE_BUSY`) as it comes. Two
 * guards: a statement that SQLite says may write (`sqlite3_stmt_readonly`, better-sqlite3's
 * `stmt.readonly`) is refused before it runs, and it runs with `PRAGMA query_only` on, which makes
 * SQLite refuse any change to the file. One statement only: better-sqlite3's `prepare` refuses
 * more, and so does this, with a clearer message. A statement that returns no rows (`BEGIN`,
 * `ATTACH`, a pragma that sets) is no check either. A refusal is an Error with `refusal` set to
 * its kind.
 *
 * Self-contained on purpose: it is also the code of the check worker (see sqlite-check-worker.ts),
 * which gets it as text (`Function.prototype.toString`). It may use no import and no name from
 * this module, only its arguments and globals.
 *
 * @example
 * ```ts
 * checkStatement(db, "SELECT count(*) FROM jobs WHERE state = 'queued'"); // 12
 * ```
 */
export function checkStatement(db: Db, sql: string): unknown {
  const refuse = (refusal: CheckRefusal, message: string, cause?: unknown): Error => Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { refusal });
  let stmt: Database.Statement<unknown[], unknown>;
  try {
    stmt = db.prepare(sql);
  } catch (err) {
    if (err instanceof RangeError && /more than one statement/.test(err.message)) {
      throw refuse("query", "check refused: the query holds more than one statement; a check is one statement", err);
    }
    if (err instanceof RangeError && /no statements/.test(err.message)) {
      throw refuse("query", "check refused: the query holds no statement (only comments?)", err);
    }
    throw err;
  }
  if (!stmt.readonly) {
    throw refuse("permission", "check refused: the statement writes (or may write) to the database; a check may only read (SELECT …)");
  }
  if (!stmt.reader) {
    throw refuse("query", "check refused: the statement returns no rows; a check is a query whose first column is a number (SELECT …)");
  }
  stmt.raw(true);
  const was = db.pragma("query_only", { simple: true }) as number;
  if (!was) db.pragma("query_only = ON");
  try {
    const row = stmt.get() as unknown[] | undefined;
    return row?.[0];
  } finally {
    if (!was) db.pragma("query_only = OFF");
  }
}

/**
 * A refusal of {@link checkStatement} (or of the worker, which sends its kind and message) as the
 * DbHealthError core reports; any other error unchanged (core classifies SQLite's by its code).
 */
export function refusalError(err: unknown): unknown {
  const refusal = (err as { refusal?: unknown } | undefined)?.refusal;
  if (refusal !== "permission" && refusal !== "query") return err;
  const cause = (err as Error).cause;
  return new DbHealthError(refusal, (err as Error).message, { driver: "sqlite", ...(cause === undefined ? {} : { cause }) });
}

/**
 * Runs one custom check (`checks:`) read-only on the probe's own connection, in this thread: the
 * path of an in-memory database, which no other connection (and so no worker) can open. See
 * {@link checkStatement} for the guards; a locked file is tried again until the deadline
 * (`patiently`). SQLite cannot be interrupted mid-statement: the deadline is honoured before it
 * starts and between the tries of a locked file, and until the statement returns nothing else in
 * the process runs; a statement that returns late is a timeout in core. A file is checked in a
 * worker thread instead ({@link CheckWorker}).
 *
 * @example
 * ```ts
 * await readOnlyCheck(db, "SELECT count(*) FROM jobs WHERE state = 'queued'", call); // 12
 * ```
 */
export async function readOnlyCheck(db: Db, sql: string, call: DialectCall): Promise<unknown> {
  if (call.signal.aborted) throw new DbHealthError("timeout", "check aborted before it started", { driver: "sqlite" });
  try {
    return await patiently(call, () => checkStatement(db, sql));
  } catch (err) {
    throw refusalError(err);
  }
}
