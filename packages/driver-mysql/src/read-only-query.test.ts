import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createConnection } from "mysql2";
import mysql from "mysql2/promise";
import { createRedactor, dsnSecrets, parseDsn, resolveTargetConfig, withDeadline, type DriverAdapter } from "@alfred/db-health-core";
import { mysqlDriver } from "./definition.js";
import { sessionLimits } from "./mysql-dialect.js";
import { runReadOnlyQuery, type CheckConnection } from "./read-only-query.js";

// What the testkit's check cases cannot see from outside, on the machine's MariaDB: the session
// is put back after a check, the check's timeout is the server's (the connection is kept), and a
// procedure that commits and then writes is never called.
const LOCAL = process.env.DB_HEALTH_MYSQL_DSN ?? "mysql://root@tcp(127.0.0.1:3306)/test";
const TABLE = `roq_${process.pid}`;
const PROC = `roq_commit_${process.pid}`;
const admin = (): Promise<mysql.Connection> => mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root", database: "test" });
const onAdmin = async (sql: string): Promise<unknown[]> => {
  const c = await admin();
  try {
    return (await c.query(sql))[0] as unknown[];
  } finally {
    await c.end();
  }
};
beforeAll(async () => {
  await onAdmin(`CREATE TABLE ${TABLE} (n INT) ENGINE=InnoDB`);
  await onAdmin(`INSERT INTO ${TABLE} VALUES (1)`);
  await onAdmin(`CREATE PROCEDURE ${PROC}() BEGIN COMMIT; INSERT INTO ${TABLE} VALUES (7); SELECT 1; END`);
});
afterAll(async () => {
  await onAdmin(`DROP PROCEDURE IF EXISTS ${PROC}`);
  await onAdmin(`DROP TABLE IF EXISTS ${TABLE}`);
});
const adapters: DriverAdapter[] = [];
afterEach(async () => {
  await Promise.allSettled(adapters.splice(0).map((a) => a.close()));
});
const open = async (over: Record<string, unknown> = {}): Promise<DriverAdapter> => {
  const config = resolveTargetConfig({ dsn: LOCAL, probeId: `roq-${process.pid}`, ...over } as never);
  const adapter = mysqlDriver.createAdapter({ config, dsn: parseDsn(LOCAL), redact: createRedactor(dsnSecrets(LOCAL)), connectionLost: () => undefined });
  adapters.push(adapter);
  await adapter.connect(AbortSignal.timeout(5000));
  return adapter;
};
const check = (a: DriverAdapter, sql: string, ms = 2000): Promise<unknown> => withDeadline(ms, (s) => a.check!(sql, s, ms), { what: "check", onTimeout: () => a.destroy?.() });

describe("mysql readOnlyQuery on MariaDB", () => {
  it("puts the session back after a check: writable again, and the write after it commits", async () => {
    const a = await open({ readTimeout: "2s", writeTimeout: "2s" });
    expect(Number(await check(a, "SELECT @@session.tx_read_only")), "read-only during the check").toBe(1);
    await check(a, "SELECT 1 FROM nowhere_at_all").catch(() => undefined);
    await check(a, `SELECT NEXTVAL(${TABLE})`).catch(() => undefined);
    expect(await a.role(AbortSignal.timeout(2000))).toEqual({ role: "primary", readOnly: false });
    // Seen from another connection: the write after the checks committed (no transaction left open).
    await a.write("after-checks", AbortSignal.timeout(2000));
    expect(await onAdmin(`SELECT token FROM _health_check WHERE probe_id = 'roq-${process.pid}'`)).toEqual([{ token: expect.stringMatching(/^after-checks/) }]);
    await onAdmin(`DELETE FROM _health_check WHERE probe_id = 'roq-${process.pid}'`);
  });

  it("ends a check past its timeout on the server (max_statement_time), keeping the connection", async () => {
    const a = await open({ readTimeout: "5s", writeTimeout: "5s" });
    const id = await check(a, "SELECT CONNECTION_ID()");
    await expect(check(a, "SELECT SLEEP(20)", 600)).rejects.toMatchObject({ kind: "timeout", message: expect.stringMatching(/max_statement_time.*1969/) });
    expect(a.connected?.()).toBe(true);
    expect(await check(a, "SELECT CONNECTION_ID()")).toBe(id);
    // A check may also run longer than the session's limit (0.27 s here) when its timeout allows.
    const b = await open({ readTimeout: "300ms", writeTimeout: "300ms" });
    expect(Number(await check(b, "SELECT 7 FROM (SELECT SLEEP(0.5)) AS s", 3000))).toBe(7);
  });

  it("reads one row of a check's result, not millions (sql_select_limit), and puts the session's limit back", async () => {
    const bytesSent = async (): Promise<number> => Number(((await onAdmin("SHOW GLOBAL STATUS LIKE 'Bytes_sent'")) as Array<{ Value: string }>)[0]!.Value);
    const a = await open();
    expect(Number(await check(a, "SELECT @@session.sql_select_limit"))).toBe(1);
    const before = await bytesSent();
    // 3,000,000 rows (MariaDB's sequence engine): ~40 MB on the wire, and in mysql2's memory, if all were sent.
    expect(Number(await check(a, "SELECT seq FROM seq_1_to_3000000 ORDER BY seq DESC", 10_000))).toBe(3_000_000);
    expect((await bytesSent()) - before, "bytes the server sent for the check (and the few statements around it)").toBeLessThan(1_000_000);
    // A LIMIT written in the check is the check's own: it takes precedence.
    expect(Number(await check(a, "SELECT seq FROM seq_1_to_10 ORDER BY seq DESC LIMIT 5"))).toBe(10);

    // The session afterwards, seen on a connection of our own driven the same way.
    const core = createConnection({ host: "127.0.0.1", port: 3306, user: "root", database: "test" });
    const raw = core.promise();
    try {
      const [[{ limit: defaultLimit }]] = (await raw.query("SELECT @@global.sql_select_limit AS `limit`")) as unknown as [[{ limit: unknown }]];
      const connection: CheckConnection = {
        prepare: (sql) =>
          new Promise<number>((resolve, reject) =>
            core.prepare(sql, (err, statement) => (err ? reject(err) : resolve((statement as unknown as { columns?: unknown[] }).columns?.length ?? 0))),
          ),
        execute: async (sql) => (await raw.execute({ sql, rowsAsArray: true }, []))[0] as unknown[][],
        text: async (sql, values) => (await raw.query(sql, values))[0],
        discard: (err) => {
          throw err;
        },
      };
      const limits = sessionLimits("mariadb", { readTimeout: 2000, writeTimeout: 2000 });
      expect(Number(await runReadOnlyQuery(connection, "mariadb", limits, "SELECT seq FROM seq_1_to_100", { deadline: performance.now() + 2000 } as never))).toBe(1);
      const [[after]] = (await raw.query("SELECT @@session.sql_select_limit AS `limit`, @@session.tx_read_only AS ro")) as unknown as [[{ limit: unknown; ro: unknown }]];
      expect(after).toEqual({ limit: defaultLimit, ro: 0 });
      expect(((await raw.query("SELECT seq FROM seq_1_to_100")) as unknown as [unknown[]])[0]).toHaveLength(100);
    } finally {
      await raw.end();
    }
  });

  it("releases the named locks a check took (GET_LOCK): they would outlive its ROLLBACK", async () => {
    const a = await open();
    const lock = `roq_lock_${process.pid}`;
    expect(await check(a, `SELECT GET_LOCK('${lock}', 0)`)).toBe(1);
    const rows = (await onAdmin(`SELECT IS_FREE_LOCK('${lock}') AS free`)) as Array<{ free: number }>;
    expect(rows[0]!.free, "another session sees the lock free").toBe(1);
    expect(a.connected?.()).toBe(true);
  });

  it("never calls a procedure (it could COMMIT and then write): CALL returns no columns when prepared", async () => {
    const a = await open();
    await expect(check(a, `CALL ${PROC}()`)).rejects.toMatchObject({ kind: "query", message: expect.stringMatching(/^a check must be one query that returns rows/) });
    expect(await onAdmin(`SELECT n FROM ${TABLE}`)).toEqual([{ n: 1 }]);
  });

  it("says that a check is one statement, and that it must not write", async () => {
    const a = await open();
    await expect(check(a, "SELECT 1; SELECT 2")).rejects.toMatchObject({ message: expect.stringMatching(/^a check runs one statement only.*1064/) });
    await expect(check(a, `OPTIMIZE TABLE ${TABLE}`)).rejects.toMatchObject({ kind: "readonly", message: expect.stringMatching(/^a check must not write: .*1792/) });
  });
});
