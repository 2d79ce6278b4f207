import { performance } from "node:perf_hooks";
import { DbHealthError, type DialectCall } from "@alfred/db-health-core";
import type { Dialect } from "./mysql-dialect.js";

/** What a check needs from the dialect: the held connection, and a way to give it up. */
export interface CheckConnection {
  /** Prepares `sql` on the held connection (the server parses it; mysql2 keeps it) and gives the number of columns of its result. */
  prepare(sql: string): Promise<number>;
  /** Executes the prepared `sql` without values, rows as arrays. */
  execute(sql: string): Promise<unknown[][]>;
  /** Runs one of our statements (text protocol, values bound by the client). */
  text(sql: string, values?: unknown[]): Promise<unknown>;
  /** Marks the connection unusable (the session could not be restored): core reconnects first. */
  discard(err: Error): void;
}

/** The server ends the check at this share of the time left, before core's deadline, so the connection is kept. */
const SERVER_SHARE = 0.9;

/**
 * Runs one custom check on MySQL/MariaDB, read-only, in three layers:
 *
 * 1. The server prepares the check first (the binary protocol refuses several statements: a
 *    syntax error), and a statement whose result has no columns is refused without running: DDL,
 *    INSERT/UPDATE/DELETE, CALL, SET, COMMIT, `SELECT … INTO`. A `START TRANSACTION READ ONLY`
 *    alone does not stop DDL: DDL commits the transaction implicitly, then runs.
 * 2. The session is made read-only (`tx_read_only`/`transaction_read_only` = 1), so that even a
 *    statement that commits implicitly is refused (1792), with the check's own statement time
 *    limit (`max_statement_time` / `max_execution_time`) just under its deadline, and one row
 *    per result (`sql_select_limit = 1`): the check reads one value, never the whole result.
 * 3. The check runs inside `START TRANSACTION READ ONLY` … `ROLLBACK`; then the session's named
 *    locks are released (`GET_LOCK()`) and its read-only flag and limits are put back (`restore`). A session that cannot be put back is given up.
 *
 * Returns the first column of the first row as mysql2 gives it (`COUNT(*)` is a number, a
 * DECIMAL a string), `undefined` without a row.
 *
 * @example
 * ```ts
 * await runReadOnlyQuery(connection, "mariadb", sessionLimits("mariadb", config), "SELECT COUNT(*) FROM jobs", call); // 12
 * ```
 */
export async function runReadOnlyQuery(
  connection: CheckConnection,
  family: Dialect,
  restore: { sql: string; values: readonly unknown[] },
  sql: string,
  call: DialectCall,
): Promise<unknown> {
  const columns = await connection.prepare(sql).catch((err: unknown) => {
    throw oneStatement(err, sql);
  });
  if (columns === 0) {
    throw new DbHealthError("query", "a check must be one query that returns rows (SELECT …): this statement returns none (DDL, INSERT/UPDATE/DELETE, CALL, SET…), so it was not run", { driver: "mysql" });
  }
  const ms = Math.max(1, Math.floor(SERVER_SHARE * (call.deadline - performance.now())));
  const limit = family === "mariadb" ? CHECK_SQL.beginMariaDb : CHECK_SQL.beginMySql;
  await connection.text(limit, [family === "mariadb" ? ms / 1000 : ms]);
  try {
    await connection.text(CHECK_SQL.start);
    return (await connection.execute(sql))[0]?.[0];
  } finally {
    try {
      await connection.text(CHECK_SQL.end);
      // A GET_LOCK() lock is the session's: it would outlive the ROLLBACK for as long as the
      // connection lives. RELEASE_ALL_LOCKS() is MySQL 5.7+/MariaDB 10.5+; without it (1305), kept.
      await connection.text(CHECK_SQL.releaseLocks).catch((err: unknown) => {
        if ((err as { errno?: unknown } | null)?.errno !== 1305) throw err;
      });
      await connection.text(restore.sql, [...restore.values]);
      await connection.text(family === "mariadb" ? CHECK_SQL.endMariaDb : CHECK_SQL.endMySql);
    } catch (err) {
      connection.discard(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

/** The statements around a check, in one place for review. */
export const CHECK_SQL = {
  /**
   * The session read-only, with the check's statement limit (seconds on MariaDB, whole
   * milliseconds on MySQL), and one row per result (`sql_select_limit`): only the first row's
   * first column is read, and mysql2 would otherwise take the whole result into memory (a check
   * over a 5-million-row table: ~490 MB). A LIMIT written in the check takes precedence.
   */
  beginMariaDb: `SET SESSION max_statement_time = ?, tx_read_only = 1, sql_select_limit = 1`,
  beginMySql: `SET SESSION max_execution_time = ?, transaction_read_only = 1, sql_select_limit = 1`,
  start: `START TRANSACTION READ ONLY`,
  end: `ROLLBACK`,
  /** The session's named locks (`GET_LOCK()`), which a ROLLBACK keeps. */
  releaseLocks: `DO RELEASE_ALL_LOCKS()`,
  /** The session's read-only flag and row limit as the server gives every session (their global values). */
  endMariaDb: `SET SESSION tx_read_only = DEFAULT, sql_select_limit = DEFAULT`,
  endMySql: `SET SESSION transaction_read_only = DEFAULT, sql_select_limit = DEFAULT`,
} as const;

/** A syntax error on a check with a `;` inside: says that a check is one statement, keeping the error number. */
function oneStatement(err: unknown, sql: string): unknown {
  const errno = (err as { errno?: unknown } | null)?.errno;
  if (!(err instanceof Error) || errno !== 1064 || !/;\s*\S/.test(sql)) return err;
  return Object.assign(new Error(`a check runs one statement only, without ';' between several: ${err.message}`), { errno, code: (err as { code?: unknown }).code });
}
