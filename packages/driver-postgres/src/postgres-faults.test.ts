import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { createDriver, createMetrics, type Driver, type TargetOptions } from "@alfred/db-health-core";
import { postgresDriver } from "./definition.js";
import { blackholeServer, openFds, refusedPort, testDrivers } from "@alfred/db-health-testkit";
import { startCluster, type PgCluster } from "@alfred/db-health-test-servers";
import { appName } from "./__fixtures__/app-name.js";

// Faults against the machine's PostgreSQL (127.0.0.1:5432, trust) and throwaway clusters.
const LOCAL = "postgres://postgres@127.0.0.1:5432/test";
const drivers = testDrivers(postgresDriver, { maxRetries: 0, retryInterval: 10, probeId: (i) => `faults-${process.pid}-${i}` });
const make = (dsn: string, over: Partial<TargetOptions> = {}): Driver => drivers({ dsn, ...over });
const admin = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = [], dsn = LOCAL): Promise<T[]> => {
  const c = new pg.Client({ connectionString: dsn });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
};
/** Runs `work` while another session holds an ACCESS EXCLUSIVE lock on `table`. */
const whileLocked = async <T>(table: string, work: () => Promise<T>): Promise<T> => {
  const locker = new pg.Client({ connectionString: LOCAL });
  await locker.connect();
  try {
    await locker.query("BEGIN");
    await locker.query(`LOCK TABLE "${table}" IN ACCESS EXCLUSIVE MODE`);
    return await work();
  } finally {
    await locker.query("ROLLBACK");
    await locker.end();
  }
};
const backends = async (appName: string): Promise<number> =>
  (await admin<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [appName]))[0]!.n;

describe("postgres driver against the machine's server", () => {
  it("is up over TCP and over the unix socket, and names itself in pg_stat_activity", async () => {
    const tcp = make(LOCAL, { probeId: "faults-appname" });
    const r = await tcp.probe();
    expect(r.status, r.reason).toBe("up");
    expect(r.role).toBe("primary");
    expect(r.connections).toBeGreaterThan(0);
    expect(await backends(appName("faults-appname"))).toBe(1);
    const socket = make("postgres://postgres@%2Fvar%2Frun%2Fpostgresql/test");
    expect((await socket.probe()).status).toBe("up");
  });

  it("reports a read-only primary (default_transaction_read_only) as degraded, without writing", async () => {
    const d = make(`${LOCAL}?options=${encodeURIComponent("-c default_transaction_read_only=on")}`);
    const r = await d.probe();
    expect(r.status).toBe("degraded");
    expect(r.reason).toBe("primary is read-only (default_transaction_read_only=on)");
    expect(r.phases.write).toBeUndefined();
  });

  it("is down with the reason for a missing database", async () => {
    const r = await make("postgres://postgres@127.0.0.1:5432/no_such_db_here").probe();
    expect(r.status).toBe("down");
    expect(r.reason).toBe('connect failed: database "no_such_db_here" does not exist (SQLSTATE 3D000)');
  });

  it("is down fast on a refused port", async () => {
    const port = await refusedPort();
    const t0 = performance.now();
    const r = await make(`postgres://postgres@127.0.0.1:${port}/test`).probe();
    expect(r.status).toBe("down");
    expect(r.reason).toMatch(/^connect failed: connect ECONNREFUSED 127\.0\.0\.1:\d+/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it("is down within the connect deadline on a listener that never answers, or within a scrape budget, leaving no socket open", async () => {
    const scrape = "probe did not finish within the scrape timeout (1.5s)";
    const cases = [
      { over: { connectTimeout: "500ms", maxRetries: 1, retryInterval: "50ms" }, reason: /connect timed out after 500ms|timeout/i, withinMs: 2 * 500 + 50 + 400, attempts: 2 },
      // The defaults (5 s connect deadline, 3 retries 1 s apart) take 23 s here; a scrape waits 1.5 s.
      { over: { connectTimeout: "5s", maxRetries: 3, retryInterval: "1s" }, budget: { budgetMs: 1500, budgetReason: scrape }, reason: scrape, withinMs: 2500, attempts: 1 },
    ];
    for (const { over, budget, reason, withinMs, attempts } of cases) {
      const hole = await blackholeServer();
      try {
        const d = make(`postgres://postgres@127.0.0.1:${hole.port}/test?sslmode=disable`, over);
        const t0 = performance.now();
        const r = await d.probe(undefined, budget);
        expect(performance.now() - t0).toBeLessThan(withinMs);
        expect(r.status).toBe("down");
        expect(r.reason).toMatch(reason);
        expect(r.attempts).toBe(attempts);
        expect(hole.connections()).toBe(attempts);
        await new Promise((res) => setTimeout(res, 100));
        expect(hole.openSockets()).toBe(0);
      } finally {
        await hole.close();
      }
    }
  });

  it("is degraded within a scrape budget while the health table is locked, and leaves no backend behind", async () => {
    const probeId = `faults-budget-lock-${process.pid}`;
    const d = make(LOCAL, { probeId, healthTable: "dbh_budget_lock", writeTimeout: "5s" });
    try {
      expect((await d.probe()).status).toBe("up");
      const t0 = performance.now();
      const r = await whileLocked("dbh_budget_lock", () => d.probe(undefined, { budgetMs: 800 }));
      expect(performance.now() - t0).toBeLessThan(1500);
      expect(r.status).toBe("degraded");
      expect(r.reason).toBe("probe did not finish within its time budget (800ms)");
      expect(r.phases.write?.ok).toBe(false);
      expect(r.phases.read).toBeUndefined();
      // the cut statement was cancelled on the server and its connection replaced: one backend
      const again = await d.probe();
      expect(again.status, again.reason).toBe("up");
      await new Promise((res) => setTimeout(res, 200));
      expect(await backends(appName(probeId))).toBe(1);
    } finally {
      await d.close();
      await admin('DROP TABLE IF EXISTS "dbh_budget_lock"');
    }
  });

  it("degrades within the write deadline while another session holds LOCK TABLE, and leaves no backend behind", async () => {
    const probeId = `faults-lock-${process.pid}`;
    const d = make(LOCAL, { probeId, writeTimeout: "600ms", readTimeout: "600ms" });
    expect((await d.probe()).status).toBe("up");
    await whileLocked("_health_check", async () => {
      const t0 = performance.now();
      const r = await d.probe();
      expect(r.status).toBe("degraded");
      expect(r.reason).toBe("write check failed: canceling statement due to lock timeout (SQLSTATE 55P03)");
      expect(r.phases.write!.ms).toBeLessThan(700);
      expect(performance.now() - t0).toBeLessThan(2 * 600 + 500);
      const waiting = await admin<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
        [appName(probeId)],
      );
      expect(waiting[0]!.n).toBe(0);
      // The server ended the wait with its reason, so the connection is kept: exactly one backend.
      expect(await backends(appName(probeId))).toBe(1);
    });
    expect((await d.probe()).status).toBe("up");
  });

  it("is degraded with the reason when its role may not CREATE the health table", async () => {
    await admin("DROP DATABASE IF EXISTS dbh_nocreate");
    await admin("DROP ROLE IF EXISTS dbh_nocreate");
    await admin("CREATE ROLE dbh_nocreate LOGIN");
    await admin("CREATE DATABASE dbh_nocreate");
    // PostgreSQL 15 no longer grants CREATE on public to everyone; make it explicit anyway.
    await admin("REVOKE CREATE ON SCHEMA public FROM PUBLIC", [], "postgres://postgres@127.0.0.1:5432/dbh_nocreate");
    const r = await make("postgres://dbh_nocreate@127.0.0.1:5432/dbh_nocreate").probe();
    expect(r.status).toBe("degraded");
    expect(r.reason).toBe(
      'write check failed: health table "_health_check" is missing and cannot be created: permission denied for schema public (SQLSTATE 42501)',
    );
    const notAsked = await make("postgres://dbh_nocreate@127.0.0.1:5432/dbh_nocreate", { createHealthTable: false }).probe();
    expect(notAsked.status).toBe("degraded");
    expect(notAsked.reason).toBe('write check failed: relation "_health_check" does not exist (SQLSTATE 42P01)');
  });

  it("keeps the health table in the configured schema", async () => {
    await admin("DROP SCHEMA IF EXISTS dbh_ops CASCADE");
    await admin("CREATE SCHEMA dbh_ops");
    const r = await make(LOCAL, { schema: "dbh_ops", healthTable: "probe_rows", probeId: "schema-test" }).probe();
    expect(r.status, r.reason).toBe("up");
    const rows = await admin<{ probe_id: string }>("SELECT probe_id FROM dbh_ops.probe_rows");
    expect(rows.map((x) => x.probe_id)).toEqual(["schema-test"]);
    await admin("DROP SCHEMA dbh_ops CASCADE");
  });

  it("ends a statement stuck on a frozen backend at the deadline, cancels it, and leaves no backend", async () => {
    const probeId = `faults-frozen-backend-${process.pid}`;
    const app = appName(probeId);
    const d = make(LOCAL, { probeId, readTimeout: "500ms", maxRetries: 0 });
    expect((await d.probe()).status).toBe("up");
    const [row] = await admin<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [app]);
    process.kill(row!.pid, "SIGSTOP");
    try {
      const t0 = performance.now();
      const r = await d.probe();
      expect(r.status).toBe("down");
      expect(r.reason).toBe("ping timed out after 500ms");
      expect(performance.now() - t0).toBeLessThan(1200);
    } finally {
      process.kill(row!.pid, "SIGCONT");
    }
    // the old backend sees its socket closed; the next cycle has a new one, and only that
    expect((await d.probe()).status).toBe("up");
    let n = await backends(app);
    for (let i = 0; i < 30 && n > 1; i++) {
      await new Promise((res) => setTimeout(res, 100));
      n = await backends(app);
    }
    expect(n).toBe(1);
  });

  it("recreates a health table dropped while connected, and prunes only with DELETE rights", async () => {
    const d = make(LOCAL, { probeId: "faults-recreate", healthTable: "dbh_recreate" });
    expect((await d.probe()).status).toBe("up");
    await admin("DROP TABLE dbh_recreate");
    const r = await d.probe();
    expect(r.status, r.reason).toBe("up");
    await admin("DROP ROLE IF EXISTS dbh_nodelete");
    await admin("CREATE ROLE dbh_nodelete LOGIN");
    await admin("GRANT SELECT, INSERT, UPDATE ON dbh_recreate TO dbh_nodelete");
    await admin("INSERT INTO dbh_recreate VALUES ('gone-pod', 't', now() - interval '2 days')");
    const limited = await make("postgres://dbh_nodelete@127.0.0.1:5432/test", { probeId: "faults-nodelete", healthTable: "dbh_recreate", createHealthTable: false }).probe();
    expect(limited.status, limited.reason).toBe("up");
    expect((await admin("SELECT probe_id FROM dbh_recreate WHERE probe_id = 'gone-pod'")).length).toBe(1);
    const full = await make(LOCAL, { probeId: "faults-recreate-2", healthTable: "dbh_recreate" }).probe();
    expect(full.status).toBe("up");
    expect((await admin("SELECT probe_id FROM dbh_recreate WHERE probe_id = 'gone-pod'")).length).toBe(0);
    await admin("DROP TABLE dbh_recreate");
    await admin("DROP ROLE dbh_nodelete");
  });

  it("leaks no descriptor over 200 connects with sslmode=prefer (TLS first) and disable", async () => {
    const fds = openFds();
    for (let i = 0; i < 200; i++) {
      const d = createDriver({ dsn: `${LOCAL}?sslmode=${i % 2 ? "prefer" : "disable"}`, maxRetries: 0 }, { definition: postgresDriver });
      const r = await d.probe();
      if (r.status !== "up") throw new Error(`${i}: ${r.reason}`);
      await d.close();
    }
    await new Promise((res) => setTimeout(res, 200));
    expect(Math.abs(openFds() - fds)).toBeLessThanOrEqual(2);
  }, 60_000);

  it("keeps one backend and a flat fd count over 1,000 cycles", async () => {
    const probeId = `faults-cycles-${process.pid}`;
    const d = make(LOCAL, { probeId });
    await d.probe();
    const fds = openFds();
    for (let i = 0; i < 1000; i++) {
      const r = await d.probe();
      if (r.status !== "up") throw new Error(`cycle ${i}: ${r.reason}`);
      if (i % 250 === 0) expect(await backends(appName(probeId))).toBe(1);
    }
    expect(await backends(appName(probeId))).toBe(1);
    expect(Math.abs(openFds() - fds)).toBeLessThanOrEqual(2);
  }, 120_000);
});

describe("postgres driver against throwaway servers", () => {
  let scram: PgCluster;
  let tls: PgCluster;
  const SECRET = "Wr0ng-but-S3cret";
  beforeAll(async () => {
    [scram, tls] = await Promise.all([
      // PostgreSQL 15 lets only the database owner CREATE in public: these roles own nothing,
      // so they are given CREATE explicitly below.
      startCluster({ users: [{ name: "app", password: "right-password" }] }),
      startCluster({ ssl: true, hba: ["hostssl all sslonly 127.0.0.1/32 trust", "hostnossl all sslonly 127.0.0.1/32 reject"], users: [{ name: "sslonly" }] }),
    ]);
    await scram.query("GRANT CREATE ON SCHEMA public TO app");
    await tls.query("GRANT CREATE ON SCHEMA public TO sslonly");
  }, 180_000);
  afterAll(async () => {
    await Promise.allSettled([scram?.destroy(), tls?.destroy()]);
  });

  it("is down for a wrong password, counts the error, and prints the password nowhere", async () => {
    const d = make(scram.dsn({ user: "app", password: SECRET }), { maxRetries: 1, retryInterval: "20ms" });
    const r = await d.probe();
    expect(r.status).toBe("down");
    expect(r.reason).toBe('connect failed: password authentication failed for user "app" (SQLSTATE 28P01)');
    const metrics = createMetrics();
    metrics.observe(r);
    const text = await metrics.render();
    expect(text).toMatch(/db_connection_errors_total\{db_name="postgres",db_role="unknown",target="postgres"\} 2/);
    const thrown = await d.connect().catch((e: unknown) => inspect(e, { depth: 10 }));
    for (const out of [JSON.stringify(r), text, String(thrown), inspect(r, { depth: 10 })]) {
      expect(out).not.toContain(SECRET);
      expect(out).not.toContain(encodeURIComponent(SECRET));
    }
    expect((await make(scram.dsn({ user: "app", password: "right-password" })).probe()).status).toBe("up");
  });

  it("says a password is needed, not pg's internals, when the DSN has none and the server asks", async () => {
    const r = await make(scram.dsn({ user: "app" })).probe();
    expect(r.status).toBe("down");
    expect(r.reason).toBe("connect failed: the server asks for a password and none was given (DSN, PGPASSWORD or PGPASSWORD_FILE)");
  });

  it("takes the password from PGPASSWORD_FILE", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const file = join(mkdtempSync(join(tmpdir(), "dbh-pw-")), "pw");
    writeFileSync(file, "right-password\n");
    process.env.PGPASSWORD_FILE = file;
    try {
      expect((await make(scram.dsn({ user: "app" })).probe()).status).toBe("up");
    } finally {
      delete process.env.PGPASSWORD_FILE;
    }
  });

  it("connects with sslmode=require and verify-full when the server requires TLS, and refuses sslmode=disable cleanly", async () => {
    for (const params of [{ sslmode: "require" }, { sslmode: "prefer" }, { sslmode: "verify-full", sslrootcert: tls.caFile! }]) {
      const r = await make(tls.dsn({ user: "sslonly", params })).probe();
      expect(r.status, `${params.sslmode}: ${r.reason}`).toBe("up");
    }
    const refused = await make(tls.dsn({ user: "sslonly", params: { sslmode: "disable" } })).probe();
    expect(refused.status).toBe("down");
    expect(refused.reason).toMatch(/^connect failed: pg_hba\.conf rejects connection for host "127\.0\.0\.1", user "sslonly", database "postgres", no encryption \(SQLSTATE 28000\)$/);
  });

  it("reports db_connection_count as the client backends on its database, itself included", async () => {
    // A database nothing else uses, so the figure is known exactly: the probe's own connection
    // plus the sessions opened here on it. The one on another database must not count.
    await scram.query("DROP DATABASE IF EXISTS dbh_count WITH (FORCE)");
    await scram.query("CREATE DATABASE dbh_count");
    const others: pg.Client[] = [];
    const elsewhere = new pg.Client({ connectionString: scram.dsn({ database: "postgres" }) });
    try {
      await elsewhere.connect();
      for (let i = 0; i < 3; i++) {
        const c = new pg.Client({ connectionString: scram.dsn({ database: "dbh_count" }) });
        others.push(c);
        await c.connect();
      }
      const d = make(scram.dsn({ database: "dbh_count" }), { probeId: `faults-count-${process.pid}` });
      const r = await d.probe();
      // Measured from one more session, which the probe's count could not include. The driver
      // counts client backends only (an autovacuum worker may visit a new database too).
      const [row] = await scram.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'",
        [],
        "dbh_count",
      );
      expect(r.status, r.reason).toBe("up");
      expect(r.connections).toBe(row!.n - 1);
      expect(r.connections).toBe(1 + others.length);
      expect(d.metrics().db_connection_count).toBe(r.connections);
    } finally {
      await Promise.allSettled([elsewhere, ...others].map((c) => c.end()));
      await drivers.closeAll();
      await scram.query("DROP DATABASE IF EXISTS dbh_count WITH (FORCE)");
    }
  });

  it("is down while the server hangs, and up again after, with no backend pile-up", async () => {
    const probeId = `faults-hung-${process.pid}`;
    const d = make(scram.dsn(), { probeId, connectTimeout: "400ms", readTimeout: "400ms" });
    expect((await d.probe()).status).toBe("up");
    scram.pause();
    try {
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const r = await d.probe();
        expect(r.status).toBe("down");
        expect(performance.now() - t0).toBeLessThan(1500);
      }
    } finally {
      scram.resume();
    }
    const deadline = Date.now() + 10_000;
    let r = await d.probe();
    while (r.status !== "up" && Date.now() < deadline) r = await d.probe();
    expect(r.status).toBe("up");
    await new Promise((res) => setTimeout(res, 500));
    const rows = await scram.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [appName(probeId)]);
    expect(rows[0]?.n).toBe(1);
  });
});
