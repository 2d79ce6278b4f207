import { describe, expect, it } from "vitest";
import pg from "pg";
import { testDrivers } from "@alfred/db-health-testkit";
import { parseDsn, resolveTargetConfig } from "@alfred/db-health-core";
import { postgresDriver } from "./definition.js";
import { postgresSettings } from "./postgres-options.js";
import { appName } from "./__fixtures__/app-name.js";

// Which deadline ends a stuck statement, proven on the machine's PostgreSQL (127.0.0.1:5432,
// trust): the client's (CancelRequest) or the server's (statement_timeout). Each case uses its
// own health table so a concurrent test of the shared `_health_check` cannot interfere.
const LOCAL = "postgres://postgres@127.0.0.1:5432/test";
const make = testDrivers(postgresDriver, { dsn: LOCAL, maxRetries: 0, retryInterval: 10 });
const admin = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> => {
  const c = new pg.Client({ connectionString: LOCAL });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
};
/** Our backends, and how many of them wait on a lock. */
const ours = async (app: string): Promise<{ n: number; locked: number; pids: number[] }> => {
  const [row] = await admin<{ n: number; locked: number; pids: number[] }>(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS locked, coalesce(array_agg(pid), '{}') AS pids
       FROM pg_stat_activity WHERE application_name = $1`,
    [app],
  );
  return row!;
};
const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

describe("postgres deadlines on a real server", () => {
  it("cancels a read stuck on a lock at the client deadline, although the server-side timeouts are longer", async () => {
    const probeId = `deadline-cancel-${process.pid}`;
    const app = appName(probeId);
    // writeTimeout sets the server-side timeouts (0.9 × and 0.8 × the longest / the write
    // deadline), readTimeout the read's deadline: the server would wait 4 s, the client 500 ms.
    const over = { probeId, healthTable: "dbh_cancel_lock", writeCheck: "never", readTimeout: "500ms", writeTimeout: "5s" } as const;
    const { client } = postgresSettings(parseDsn(LOCAL), resolveTargetConfig({ dsn: LOCAL, ...over }));
    expect([client.statement_timeout, client.lock_timeout]).toEqual([4500, 4000]);
    const d = make(over);
    expect((await d.probe()).status).toBe("up");
    const locker = new pg.Client({ connectionString: LOCAL });
    await locker.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE dbh_cancel_lock IN ACCESS EXCLUSIVE MODE");
      let sawLockWait = false;
      const probing = d.probe();
      const watch = (async () => {
        for (let i = 0; i < 10 && !sawLockWait; i++) {
          await sleep(40);
          sawLockWait = (await ours(app)).locked === 1;
        }
      })();
      const r = await probing;
      const returned = performance.now();
      await watch;
      expect(sawLockWait).toBe(true);
      expect(r.status).toBe("degraded");
      expect(r.reason).toBe("read check failed: read timed out after 500ms");
      // While the lock is still held, our backend stops waiting within a second of the probe's
      // return: only a CancelRequest does that (a lock wait does not notice a closed socket; the
      // server's own lock_timeout would end it 4 s in).
      let now = await ours(app);
      while (now.n > 0 && performance.now() - returned < 1000) {
        await sleep(25);
        now = await ours(app);
      }
      expect(now.locked).toBe(0);
      expect(now.n).toBe(0);
      const held = await admin<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE pid = $1 AND mode = 'AccessExclusiveLock' AND granted", [
        (locker as pg.Client & { processID: number }).processID,
      ]);
      expect(held[0]!.n).toBe(1);
    } finally {
      await locker.query("ROLLBACK");
      await locker.end();
    }
    const after = await d.probe();
    expect(after.status, after.reason).toBe("up");
    expect((await ours(app)).n).toBe(1);
    await admin("DROP TABLE IF EXISTS dbh_cancel_lock");
  });

  it("ends a slow write with statement_timeout (SQLSTATE 57014) before the write deadline, keeping the connection", async () => {
    const probeId = `deadline-statement-${process.pid}`;
    const app = appName(probeId);
    await admin("DROP SCHEMA IF EXISTS dbh_slow CASCADE");
    await admin("CREATE SCHEMA dbh_slow");
    try {
      const d = make({ probeId, schema: "dbh_slow", healthTable: "probe_rows", readTimeout: "2s", writeTimeout: "2s" });
      expect((await d.probe()).status).toBe("up");
      const before = await ours(app);
      expect(before.n).toBe(1);
      // Every write of the probe now takes 30 s unless something ends it.
      await admin(`CREATE FUNCTION dbh_slow.stall() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(30); RETURN NEW; END $$`);
      await admin("CREATE TRIGGER stall BEFORE INSERT OR UPDATE ON dbh_slow.probe_rows FOR EACH ROW EXECUTE FUNCTION dbh_slow.stall()");
      const r = await d.probe();
      expect(r.status).toBe("degraded");
      expect(r.reason).toBe("write check failed: canceling statement due to statement timeout (SQLSTATE 57014)");
      // statement_timeout is 0.9 × 2 s: the server's answer arrives after 1.8 s, before 2 s.
      expect(r.phases.write!.ms).toBeGreaterThanOrEqual(1790);
      expect(r.phases.write!.ms).toBeLessThan(2000);
      // The adapter keeps a connection the server answered on: the later phases ran on it, and
      // the backend is the same one, idle, not still sleeping.
      expect(r.phases.read?.ok).toBe(true);
      expect(r.phases.connections?.ok).toBe(true);
      const after = await ours(app);
      expect(after.pids).toEqual(before.pids);
      const [state] = await admin<{ state: string }>("SELECT state FROM pg_stat_activity WHERE pid = $1", [before.pids[0]]);
      expect(state!.state).toBe("idle");
      await admin("DROP TRIGGER stall ON dbh_slow.probe_rows");
      expect((await d.probe()).status).toBe("up");
    } finally {
      await make.closeAll();
      await admin("DROP SCHEMA IF EXISTS dbh_slow CASCADE");
    }
  });
});
