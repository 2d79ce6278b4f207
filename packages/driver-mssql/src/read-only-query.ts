import { performance } from "node:perf_hooks";
import { DbHealthError, type DialectCall } from "@alfred/db-health-core";

/** What a check needs from the dialect: batches on the held connection, and a way to give it up. */
export interface CheckConnection {
  /**
   * Sends `text` as a SQL batch (not through sp_executesql, so session settings it makes stay)
   * and gives its result sets, rows as arrays. `cancellable` receives a function that cancels
   * the batch (a TDS attention).
   */
  batch(text: string, cancellable?: (cancel: () => void) => void): Promise<unknown[][][]>;
  /** Marks the connection unusable (the session could not be put back): core reconnects first. */
  discard(err: Error): void;
}

/** The check is cancelled at this share of the time left, before core's deadline, so the connection is kept. */
const CANCEL_SHARE = 0.9;

/**
 * Runs one custom check on SQL Server, which has no read-only transaction, in two steps:
 *
 * 1. The server plans the check without running it (`SET SHOWPLAN_XML ON`, which needs the
 *    SHOWPLAN permission): the plan must hold exactly one statement, of type `SELECT`. Several
 *    statements (T-SQL needs no `;` between them), INSERT/UPDATE/DELETE/MERGE, `SELECT … INTO`,
 *    DDL, EXEC, SET, COMMIT, IF… are refused unrun. A user-defined function cannot change data.
 * 2. The check runs inside `BEGIN TRANSACTION`, cancelled (attention) just before its deadline,
 *    and then `IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION`, whatever happened.
 *
 * Returns the first column of the first row as tedious gives it (`COUNT(*)` is a number, a
 * `bigint` a string), `undefined` without a row.
 *
 * @example
 * ```ts
 * await runReadOnlyQuery(connection, "SELECT COUNT(*) FROM dbo.jobs WHERE state = 'queued'", call); // 12
 * ```
 */
export async function runReadOnlyQuery(connection: CheckConnection, sql: string, call: DialectCall): Promise<unknown> {
  const statements = statementTypes(await plan(connection, sql));
  if (statements.length !== 1) {
    throw new DbHealthError("query", `a check runs one statement only: SQL Server plans ${statements.length === 0 ? "none" : `${statements.length} (${statements.join(", ")})`}, so it was not run`, { driver: "mssql" });
  }
  if (statements[0] !== "SELECT") {
    throw new DbHealthError("query", `a check must be one query (SELECT …): SQL Server plans it as ${statements[0]}, so it was not run`, { driver: "mssql" });
  }
  const ms = Math.max(1, Math.floor(CANCEL_SHARE * (call.deadline - performance.now())));
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  try {
    const sets = await connection.batch(CHECK_SQL.run(sql), (cancel) => {
      timer = setTimeout(() => {
        cancelled = true;
        cancel();
      }, ms);
    });
    return sets[0]?.[0]?.[0];
  } catch (err) {
    if (!cancelled) throw err;
    throw new DbHealthError("timeout", `the check ran past its timeout: cancelled after ${ms} ms`, { driver: "mssql", cause: err });
  } finally {
    clearTimeout(timer);
    await connection.batch(CHECK_SQL.end).catch((err: unknown) => connection.discard(err instanceof Error ? err : new Error(String(err))));
  }
}

/** The statements around a check, in one place for review. */
export const CHECK_SQL = {
  /** Each alone in its batch, as SQL Server requires. */
  planOn: `SET SHOWPLAN_XML ON`,
  planOff: `SET SHOWPLAN_XML OFF`,
  run: (check: string) => `BEGIN TRANSACTION;\n${check}`,
  end: `IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION`,
} as const;

/** The showplan XML of the check, compiled but not run; showplan is switched off again whatever happens. */
async function plan(connection: CheckConnection, sql: string): Promise<string> {
  await connection.batch(CHECK_SQL.planOn);
  try {
    return (await connection.batch(sql)).flat(2).map(String).join("\n");
  } finally {
    // Left on, every later statement of the session would be planned instead of run.
    await connection.batch(CHECK_SQL.planOff).catch((err: unknown) => connection.discard(err instanceof Error ? err : new Error(String(err))));
  }
}

/**
 * The `StatementType` of every statement element (`<StmtSimple>`, `<StmtCond>`, `<StmtCursor>`…)
 * in showplan XML, nested ones included. When the count of elements and of types differ, an
 * extra `"?"` makes the check fail closed.
 *
 * @example
 * ```ts
 * statementTypes('<StmtSimple StatementText="SELECT 42" StatementType="SELECT" />'); // ["SELECT"]
 * ```
 */
export function statementTypes(xml: string): string[] {
  const elements = xml.match(/<Stmt[A-Za-z]+[\s/>]/g)?.length ?? 0;
  const types = [...xml.matchAll(/\sStatementType="([^"]*)"/g)].map((m) => m[1]!);
  return elements === types.length ? types : [...types, "?"];
}
