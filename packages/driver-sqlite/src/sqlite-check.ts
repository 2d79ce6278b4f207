import type Database from "better-sqlite3";
import { DbHealthError, type DialectCall } from "@alfred/db-health-core";
import { patiently } from "./sqlite-file.js";

type Db = InstanceType<typeof Database>;

/**
 * Runs one custom check (`checks:`) read-only and returns the first column of its first row
 * (`undefined` without a row). Two guards: a statement that SQLite says may write
 * (`sqlite3_stmt_readonly`, better-sqlite3's `stmt.readonly`) is refused before it runs, and
 * it runs with `PRAGMA query_only` on, which makes SQLite refuse any change to the file. One
 * statement only: better-sqlite3's `prepare` refuses more, and so does this, with a clearer
 * message. A statement that returns no rows (`BEGIN`, `ATTACH`, a pragma that sets) is no
 * check either. SQLite cannot be interrupted mid-statement: the deadline is honoured before it
 * starts and between the tries of a locked file; a statement that returns late is a timeout in
 * core.
 *
 * @example
 * ```ts
 * await readOnlyCheck(db, "SELECT count(*) FROM jobs WHERE state = 'queued'", call); // 12
 * ```
 */
export async function readOnlyCheck(db: Db, sql: string, call: DialectCall): Promise<unknown> {
  if (call.signal.aborted) throw new DbHealthError("timeout", "check aborted before it started", { driver: "sqlite" });
  const stmt = prepareOne(db, sql);
  if (!stmt.readonly) {
    throw new DbHealthError("permission", "check refused: the statement writes (or may write) to the database; a check may only read (SELECT …)", { driver: "sqlite" });
  }
  if (!stmt.reader) {
    throw new DbHealthError("query", "check refused: the statement returns no rows; a check is a query whose first column is a number (SELECT …)", { driver: "sqlite" });
  }
  stmt.raw(true);
  return patiently(call, () => {
    const was = db.pragma("query_only", { simple: true }) as number;
    if (!was) db.pragma("query_only = ON");
    try {
      const row = stmt.get() as unknown[] | undefined;
      return row?.[0];
    } finally {
      if (!was) db.pragma("query_only = OFF");
    }
  });
}

/** The query prepared, with better-sqlite3's RangeErrors about the statement count said plainly. */
function prepareOne(db: Db, sql: string): Database.Statement<unknown[], unknown> {
  try {
    return db.prepare(sql);
  } catch (err) {
    if (err instanceof RangeError && /more than one statement/.test(err.message)) {
      throw new DbHealthError("query", "check refused: the query holds more than one statement; a check is one statement", { driver: "sqlite", cause: err });
    }
    if (err instanceof RangeError && /no statements/.test(err.message)) {
      throw new DbHealthError("query", "check refused: the query holds no statement (only comments?)", { driver: "sqlite", cause: err });
    }
    throw err;
  }
}
