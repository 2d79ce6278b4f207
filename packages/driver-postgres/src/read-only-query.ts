import { performance } from "node:perf_hooks";
import pg from "pg";
import { DbHealthError, type DialectCall } from "@alfred/db-health-core";

/** What a check needs from the dialect: the held connection, and a way to give it up. */
export interface CheckConnection {
  /** Runs one query on the held connection (counted as in flight, so a missed deadline cancels it). */
  query(config: pg.QueryConfig & { queryMode?: "extended"; rowMode?: "array" }): Promise<pg.QueryResult<unknown[]>>;
  /** Submits a query object (see {@link FirstRowQuery}) on the held connection, counted as in flight too. */
  submit(query: FirstRowQuery): Promise<unknown[] | undefined>;
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
 * Before any of that, the check must start with a keyword of a query (`SELECT`, `WITH`,
 * `VALUES`, `TABLE`, `SHOW`; see `queryKeyword`): a read-only transaction does not stop
 * `COPY … TO PROGRAM` (a shell command on the server) or `COPY … TO 'file'`, nor `DO`, `CALL`,
 * `PREPARE`, `LOCK` or `LISTEN`, which are refused unrun. After the `ROLLBACK`, the session's
 * advisory locks are released (`pg_advisory_unlock_all()`): `pg_advisory_lock()` in a check
 * would otherwise hold its lock for as long as the connection lives.
 *
 * @example
 * ```ts
 * await runReadOnlyQuery(connection, "SELECT count(*) FROM jobs WHERE state = 'queued'", call); // "12"
 * ```
 */
export async function runReadOnlyQuery(connection: CheckConnection, sql: string, call: DialectCall): Promise<unknown> {
  const keyword = queryKeyword(sql);
  if (!QUERY_KEYWORDS.has(keyword)) {
    const starts = keyword === "" ? "does not start with a keyword" : `starts with ${keyword}`;
    throw new DbHealthError("query", `a check must be one query that returns rows (SELECT, WITH, VALUES, TABLE or SHOW): this statement ${starts}, so it was not run`, { driver: "postgres" });
  }
  const ms = Math.max(1, Math.floor(SERVER_SHARE * (call.deadline - performance.now())));
  await connection.query({ text: CHECK_SQL.begin(ms) });
  try {
    const row = await connection.submit(new FirstRowQuery(sql)).catch((err: unknown) => {
      throw oneStatement(err);
    });
    return row?.[0];
  } finally {
    // Always: a check that failed left the transaction aborted, one that ran COMMIT left none
    // (ROLLBACK then only warns). A connection that cannot end it is not used again.
    await connection.query({ text: CHECK_SQL.end }).catch((err: unknown) => connection.discard(err instanceof Error ? err : new Error(String(err))));
  }
}

/**
 * A query through the extended protocol that asks the server for its first row only (`Execute`
 * with a row limit of 1) and ends there: the rows after it are neither computed nor sent. A check
 * without `LIMIT` or an aggregate was read whole into the exporter's memory (20 million rows:
 * 1.6 GB and 10.7 s). The extended protocol also keeps refusing several statements.
 *
 * pg's own `Query` with `rows` would fetch the next row on every `PortalSuspended`, and after an
 * error would not send the `Sync` the server waits for; both are done here instead.
 */
export class FirstRowQuery extends pg.Query<unknown[]> {
  /** Settled once the server is ready for the next statement: the first row, or none. */
  readonly done: Promise<unknown[] | undefined>;

  constructor(sql: string) {
    let settle!: (err: Error | null, row?: unknown[]) => void;
    const done = new Promise<unknown[] | undefined>((resolve, reject) => {
      settle = (err, row) => (err ? reject(err) : resolve(row));
    });
    super({ text: sql, rowMode: "array", rows: 1 } as pg.QueryConfig, undefined, ((err: Error | null, result?: pg.QueryResult<unknown[]>) =>
      settle(err, err ? undefined : result?.rows[0])) as never);
    this.done = done;
  }

  /** One row is all a check reads: end the statement instead of asking for the next row. */
  handlePortalSuspended(connection: PgConnection): void {
    connection.sync();
  }

  /** Without the pipelined `Sync` the server skips everything until one comes: send it. */
  handleError(err: Error, connection: PgConnection): void {
    connection.sync();
    (pg.Query.prototype as unknown as { handleError(e: Error, c: PgConnection): void }).handleError.call(this, err, connection);
  }
}

/** The part of pg's internal connection a {@link FirstRowQuery} uses. */
interface PgConnection {
  sync(): void;
}

/** The statements around a check, in one place for review. */
export const CHECK_SQL = {
  /** One round trip: the transaction and its statement limit (a whole number of milliseconds). */
  begin: (ms: number) => `BEGIN READ ONLY; SET LOCAL statement_timeout = ${Math.max(1, Math.floor(ms))}`,
  /** The transaction, then the session's advisory locks (`pg_advisory_lock()` outlives a ROLLBACK). */
  end: `ROLLBACK; SELECT pg_advisory_unlock_all()`,
} as const;

/** The first keywords of a statement that is a query (they cannot hold COPY, DO, CALL…). */
const QUERY_KEYWORDS: ReadonlySet<string> = new Set(["SELECT", "WITH", "VALUES", "TABLE", "SHOW"]);

/**
 * The statement's first keyword, upper case, after white space, `--` and (nested) `/* *\/`
 * comments and opening parentheses; `""` when it starts with anything else.
 *
 * @example
 * ```ts
 * queryKeyword("/* x *\/ (select 1)"); // "SELECT"
 * queryKeyword("COPY (SELECT 1) TO PROGRAM 'sh'"); // "COPY"
 * ```
 */
export function queryKeyword(sql: string): string {
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c) || c === "(") i++;
    else if (sql.startsWith("--", i)) {
      const end = sql.indexOf("\n", i);
      i = end < 0 ? sql.length : end + 1;
    } else if (sql.startsWith("/*", i)) {
      let depth = 0;
      while (i < sql.length) {
        if (sql.startsWith("/*", i)) (depth++, (i += 2));
        else if (sql.startsWith("*/", i)) {
          i += 2;
          if (--depth === 0) break;
        } else i++;
      }
    } else break;
  }
  return /^[A-Za-z_]+/.exec(sql.slice(i))?.[0].toUpperCase() ?? "";
}

/** Says in the error that a check is one statement, keeping the SQLSTATE (42601). */
function oneStatement(err: unknown): unknown {
  if (!(err instanceof Error) || !/cannot insert multiple commands into a prepared statement/i.test(err.message)) return err;
  return Object.assign(new Error(`a check runs one statement only, without ';' between several: ${err.message}`), { code: (err as { code?: unknown }).code });
}
