import { afterEach, describe, expect, it } from "vitest";
import pg from "pg";
import { createRedactor, dsnSecrets, parseDsn, resolveTargetConfig, withDeadline, type DriverAdapter } from "@alfred/db-health-core";
import { postgresDriver } from "./definition.js";
import { appName } from "./__fixtures__/app-name.js";
import { CHECK_SQL, queryKeyword } from "./read-only-query.js";

// What the testkit's check cases cannot see from outside, on the machine's PostgreSQL: the check
// leaves the session as it was, and its timeout is the server's (the connection is kept).
const LOCAL = process.env.DB_HEALTH_PG_DSN ?? "postgres://postgres@127.0.0.1:5432/test";
const adapters: DriverAdapter[] = [];
afterEach(async () => {
  await Promise.allSettled(adapters.splice(0).map((a) => a.close()));
});
const open = async (probeId: string, over: Record<string, unknown> = {}): Promise<DriverAdapter> => {
  const config = resolveTargetConfig({ dsn: LOCAL, probeId, ...over } as never);
  const adapter = postgresDriver.createAdapter({ config, dsn: parseDsn(LOCAL), redact: createRedactor(dsnSecrets(LOCAL)), connectionLost: () => undefined });
  adapters.push(adapter);
  await adapter.connect(AbortSignal.timeout(5000));
  return adapter;
};
const check = (a: DriverAdapter, sql: string, ms = 2000): Promise<unknown> => withDeadline(ms, (s) => a.check!(sql, s, ms), { what: "check", onTimeout: () => a.destroy?.() });
const sessions = async (app: string): Promise<Array<{ pid: number; state: string }>> => {
  const c = new pg.Client({ connectionString: LOCAL });
  await c.connect();
  try {
    return (await c.query<{ pid: number; state: string }>("SELECT pid, state FROM pg_stat_activity WHERE application_name = $1", [app])).rows;
  } finally {
    await c.end();
  }
};

describe("postgres readOnlyQuery", () => {
  it("rolls back what a check changes in the session (set_config, SET), and leaves it idle, not in a transaction", async () => {
    const probeId = `roq-session-${process.pid}`;
    const a = await open(probeId);
    expect(await check(a, "SELECT set_config('application_name', 'renamed-by-a-check', false)")).toBe("renamed-by-a-check");
    // Statements that are no query (SET, COMMIT) are refused unrun.
    await expect(check(a, "SET TRANSACTION READ WRITE")).rejects.toMatchObject({ kind: "query" });
    await expect(check(a, "COMMIT")).rejects.toMatchObject({ kind: "query" });
    expect(await sessions(appName(probeId))).toEqual([{ pid: expect.any(Number), state: "idle" }]);
    expect(await check(a, "SHOW transaction_read_only"), "each check has its read-only transaction").toBe("on");
    await a.write("after-checks", AbortSignal.timeout(2000));
  });

  it("ends a check past its timeout on the server (statement_timeout), keeping the connection", async () => {
    const a = await open(`roq-timeout-${process.pid}`, { readTimeout: "5s", writeTimeout: "5s" });
    const pid = await check(a, "SELECT pg_backend_pid()");
    // The check's own timeout, shorter than the session's statement_timeout (4.5 s here).
    await expect(check(a, "SELECT pg_sleep(20)", 600)).rejects.toMatchObject({ kind: "timeout", message: expect.stringMatching(/statement timeout.*57014/) });
    expect(a.connected?.()).toBe(true);
    expect(await check(a, "SELECT pg_backend_pid()")).toBe(pid);
    // …and longer than it: a check may take more than the session's limit when configured so.
    const b = await open(`roq-long-${process.pid}`, { readTimeout: "300ms", writeTimeout: "300ms" });
    expect(await check(b, "SELECT 7 FROM pg_sleep(0.5)", 3000)).toBe(7);
  });

  it("says that a check is one statement, and that it must not write", async () => {
    const a = await open(`roq-messages-${process.pid}`);
    await expect(check(a, "SELECT 1; SELECT 2")).rejects.toMatchObject({ kind: "query", message: expect.stringMatching(/^a check runs one statement only.*SQLSTATE 42601/) });
    await expect(check(a, "SELECT * INTO roq_never FROM pg_class")).rejects.toMatchObject({
      kind: "readonly",
      message: "a check must not write: cannot execute SELECT INTO in a read-only transaction (SQLSTATE 25006)",
    });
    await expect(check(a, "CREATE TABLE roq_never (n int)")).rejects.toMatchObject({
      kind: "query",
      message: "a check must be one query that returns rows (SELECT, WITH, VALUES, TABLE or SHOW): this statement starts with CREATE, so it was not run",
    });
  });

  it("refuses unrun what a read-only transaction lets through: COPY TO a file or a program, DO, CALL, LOCK", async () => {
    const a = await open(`roq-copy-${process.pid}`);
    // COPY … TO is allowed in a read-only transaction: with a superuser it writes a server file
    // or runs a shell command. The file would be made by the server, in its data directory.
    const file = `roq-copy-${process.pid}-never`;
    const c = new pg.Client({ connectionString: LOCAL });
    await c.connect();
    const dir = (await c.query<{ d: string }>("SELECT current_setting('data_directory') AS d")).rows[0]!.d;
    const path = `${dir}/${file}`;
    for (const sql of [
      `COPY (SELECT 1) TO '${path}'`,
      `/* a comment */ -- another\n copy (select 1) to program 'true'`,
      `DO $$BEGIN EXECUTE 'COPY (SELECT 1) TO ''${path}'''; END$$`,
      "LOCK TABLE pg_class IN ACCESS SHARE MODE",
      "CALL no_such_procedure()",
      "PREPARE roq_p AS SELECT 1",
    ]) {
      await expect(check(a, sql), sql).rejects.toMatchObject({ kind: "query", message: expect.stringMatching(/^a check must be one query that returns rows .*so it was not run$/) });
    }
    try {
      const seen = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_ls_dir('.') AS name WHERE name = $1", [file]);
      expect(seen.rows[0]!.n, "no file written").toBe(0);
    } finally {
      await c.end();
    }
    expect(await check(a, "(select 42)")).toBe(42);
    expect(await check(a, "/* x /* nested */ */ WITH n AS (SELECT 5) TABLE n")).toBe(5);
    expect(await check(a, "VALUES (6)")).toBe(6);
  });

  it("releases the advisory locks a check took: they would outlive its ROLLBACK", async () => {
    const probeId = `roq-lock-${process.pid}`;
    const a = await open(probeId);
    const key = 700000 + (process.pid % 100000);
    await check(a, `SELECT pg_advisory_lock(${key})`);
    const c = new pg.Client({ connectionString: LOCAL });
    await c.connect();
    try {
      const free = await c.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [key]);
      expect(free.rows[0]!.ok, "another session can take the lock the check took").toBe(true);
    } finally {
      await c.end();
    }
    expect(await sessions(appName(probeId))).toEqual([{ pid: expect.any(Number), state: "idle" }]);
  });

  it("reads the first row only: the rows after it are never computed nor sent (a check without LIMIT or an aggregate)", async () => {
    const probeId = `roq-first-row-${process.pid}`;
    const a = await open(probeId);
    // The second row would fail: it is never computed. The whole result used to be read into
    // the exporter's memory first (20 million rows: 1.6 GB and 10.7 s).
    expect(await check(a, "SELECT CASE WHEN g = 1 THEN 7 ELSE 1 / (g - g) END FROM generate_series(1, 3) g")).toBe(7);
    expect(await check(a, "SELECT 1 FROM pg_class a, pg_class b, pg_class c")).toBe(1);
    // An error in the first row, none, or one at parse time: the session is ready for the next.
    await expect(check(a, "SELECT 1 / (g - g) FROM generate_series(1, 3) g")).rejects.toMatchObject({ message: expect.stringMatching(/division by zero/) });
    expect(await check(a, "SELECT 1 WHERE false")).toBeUndefined();
    await expect(check(a, "SELECT FROM FROM")).rejects.toMatchObject({ message: expect.stringMatching(/syntax error/) });
    expect(await check(a, "SHOW transaction_read_only")).toBe("on");
    expect(await sessions(appName(probeId))).toEqual([{ pid: expect.any(Number), state: "idle" }]);
    await a.write("after-first-row", AbortSignal.timeout(2000));
  });

  it("finds a statement's first keyword past comments and parentheses", () => {
    expect(queryKeyword("  /* a /* b */ c */ -- d\n ((Select 1))")).toBe("SELECT");
    expect(queryKeyword("COPY (SELECT 1) TO PROGRAM 'sh'")).toBe("COPY");
    expect(queryKeyword("/* unterminated")).toBe("");
    expect(queryKeyword("$$x$$")).toBe("");
  });

  it("sends its transaction and limit in one round trip", () => {
    expect(CHECK_SQL.begin(449.7)).toBe("BEGIN READ ONLY; SET LOCAL statement_timeout = 449");
    expect(CHECK_SQL.begin(0)).toBe("BEGIN READ ONLY; SET LOCAL statement_timeout = 1");
  });
});
