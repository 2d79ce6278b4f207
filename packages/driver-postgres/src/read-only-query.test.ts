import { afterEach, describe, expect, it } from "vitest";
import pg from "pg";
import { createRedactor, dsnSecrets, parseDsn, resolveTargetConfig, withDeadline, type DriverAdapter } from "@alfred/db-health-core";
import { postgresDriver } from "./definition.js";
import { appName } from "./__fixtures__/app-name.js";
import { CHECK_SQL } from "./read-only-query.js";

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
    await check(a, "SET TRANSACTION READ WRITE");
    await check(a, "COMMIT");
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
    await expect(check(a, "CREATE TABLE roq_never (n int)")).rejects.toMatchObject({
      kind: "readonly",
      message: "a check must not write: cannot execute CREATE TABLE in a read-only transaction (SQLSTATE 25006)",
    });
  });

  it("sends its transaction and limit in one round trip", () => {
    expect(CHECK_SQL.begin(449.7)).toBe("BEGIN READ ONLY; SET LOCAL statement_timeout = 449");
    expect(CHECK_SQL.begin(0)).toBe("BEGIN READ ONLY; SET LOCAL statement_timeout = 1");
  });
});
