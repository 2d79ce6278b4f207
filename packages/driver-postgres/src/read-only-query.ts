import { performance } from "node:perf_hooks";
import type pg from "pg";
import type { DialectCall } from "@alfred/db-health-core";

/** What a check needs from the dialect: the held connection, and a way to give it up. */
export interface CheckConnection {
  /** Runs one query on the held connection (counted as in flight, so a missed deadline cancels it). */
  query(config: pg.QueryConfig & { queryMode?: "extended"; rowMode?: "array" }): Promise<pg.QueryResult<unknown[]>>;
  /** Marks the connection unusable (the transaction could not be ended): core reconnects first. */
  discard(err: Error): void;
}

/** The server ends the check at this share of the time left, before core's deadline, so the connection is kept. */
const SERVER_SHARE = 0.9;

/**
 * Runs one custom check on PostgreSQL, read-only: `BEGIN READ ONLY` with a `SET LOCAL
 * statement_timeout` just under the check's deadline, the check through the extended query
 * protocol (which refuses several statements: `cannot insert multiple commands into a prepared
 * statement`), then always `ROLLBACK`, whatever happened. A write, `nextval()`, DDL or a function
 * that writes fails with SQLSTATE 25006; settings the check changes (`set_config`, `SET`) are
 * rolled back with it. Returns the first column of the first row as pg gives it (`count(*)` is a
 * string: a bigint), `undefined` without a row.
 *
 * @example
 * ```ts
 * await runReadOnlyQuery(connection, "SELECT count(*) FROM jobs WHERE state = 'queued'", call); // "12"
 * ```
 */
export async function runReadOnlyQuery(connection: CheckConnection, sql: string, call: DialectCall): Promise<unknown> {
  const ms = Math.max(1, Math.floor(SERVER_SHARE * (call.deadline - performance.now())));
  await connection.query({ text: CHECK_SQL.begin(ms) });
  try {
    const result = await connection.query({ text: sql, queryMode: "extended", rowMode: "array" }).catch((err: unknown) => {
      throw oneStatement(err);
    });
    return result.rows[0]?.[0];
  } finally {
    // Always: a check that failed left the transaction aborted, one that ran COMMIT left none
    // (ROLLBACK then only warns). A connection that cannot end it is not used again.
    await connection.query({ text: CHECK_SQL.end }).catch((err: unknown) => connection.discard(err instanceof Error ? err : new Error(String(err))));
  }
}

/** The statements around a check, in one place for review. */
export const CHECK_SQL = {
  /** One round trip: the transaction and its statement limit (a whole number of milliseconds). */
  begin: (ms: number) => `BEGIN READ ONLY; SET LOCAL statement_timeout = ${Math.max(1, Math.floor(ms))}`,
  end: `ROLLBACK`,
} as const;

/** Says in the error that a check is one statement, keeping the SQLSTATE (42601). */
function oneStatement(err: unknown): unknown {
  if (!(err instanceof Error) || !/cannot insert multiple commands into a prepared statement/i.test(err.message)) return err;
  return Object.assign(new Error(`a check runs one statement only, without ';' between several: ${err.message}`), { code: (err as { code?: unknown }).code });
}
