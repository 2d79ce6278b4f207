import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@alfred/db-health-testkit";
import { postgresDriver } from "@alfred/db-health-driver-postgres/definition";
import { startCluster, type PgCluster } from "@alfred/db-health-test-servers";
import { describeRow, observeProbe, runCase, type CaseSpec } from "./matrix/case.js";
import { blackholeCase, killedMidCycleCase, lockedTableCase, refusedCase, slowLinkCase, stalledLinkCase, wrongPasswordCase } from "./matrix/server-cases.js";
import { createMatrix } from "./matrix/record.js";

// The PostgreSQL column of the fault matrix, against a throwaway primary (TLS on, one role that
// must use it) and its streaming replica. Rows go to docs/fault-matrix.md.
const APP_PASSWORD = "Matrix-Right-pw-7";
const WRONG_PASSWORD = "Matrix-Wrong-pw-9";
let primary: PgCluster;
let replica: PgCluster;
const meta: Record<string, string> = {};
const matrix = createMatrix("postgres", meta);

/** probe sessions (application_name db-health/…) on the primary and the replica */
const sessions = async (): Promise<number> => {
  let n = 0;
  for (const c of [primary, replica]) {
    const rows = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'db-health/%'").catch(() => [{ n: 0 }]);
    n += rows[0]?.n ?? 0;
  }
  return n;
};

const check = async (spec: CaseSpec): Promise<void> => {
  const row = await runCase(matrix, postgresDriver, sessions, spec);
  expect(row.pass, describeRow(row)).toBe(true);
};

/** a session holding `LOCK TABLE _health_check IN EXCLUSIVE MODE` (reads pass, writes wait); resolves to its release */
async function lockHealthTable(): Promise<() => Promise<void>> {
  const locker = new pg.Client({ connectionString: primary.dsn() });
  locker.on("error", () => {}); // the server may be killed under it
  await locker.connect();
  await locker.query("BEGIN");
  await locker.query('LOCK TABLE "_health_check" IN EXCLUSIVE MODE');
  return () => locker.end();
}

beforeAll(async () => {
  primary = await startCluster({
    ssl: true,
    hba: ["hostssl all sslonly 127.0.0.1/32 trust", "hostnossl all sslonly 127.0.0.1/32 reject", "host all nocreate 127.0.0.1/32 trust"],
    users: [{ name: "app", password: APP_PASSWORD }, { name: "sslonly" }, { name: "nocreate" }],
    databases: ["rodb", "permdb"],
  });
  await primary.query("GRANT CREATE ON SCHEMA public TO app");
  await primary.query("CREATE DATABASE tlsdb OWNER sslonly");
  await primary.query("ALTER DATABASE rodb SET default_transaction_read_only = on");
  await primary.query("REVOKE CREATE ON SCHEMA public FROM PUBLIC", [], "permdb");
  replica = await primary.createReplica();
  meta["server"] = `PostgreSQL ${(await primary.query<{ v: string }>("SELECT current_setting('server_version') AS v"))[0]!.v}`;
}, 180_000);

afterAll(async () => {
  matrix.flush();
  await Promise.allSettled([replica?.destroy(), primary?.destroy()]);
});

describe("fault matrix: PostgreSQL", () => {
  it("healthy primary", () => check({ fault: "healthy primary (baseline)", expected: "up", run: async (ctx) => observeProbe(ctx.driver(primary.dsn())) }));

  it("refused port", () => check(refusedCase((port) => `postgres://postgres@127.0.0.1:${port}/postgres`)));

  it("blackhole listener", () => check(blackholeCase((port) => `postgres://postgres@127.0.0.1:${port}/postgres`)));

  it("wrong password", () => check(wrongPasswordCase(primary.dsn({ user: "app", password: WRONG_PASSWORD }), WRONG_PASSWORD)));

  it("no password", () =>
    check({ fault: "no password given, the server asks for one", expected: "down", run: async (ctx) => observeProbe(ctx.driver(primary.dsn({ user: "app" }))) }));

  it("missing database", () =>
    check({ fault: "missing database", expected: "down", run: async (ctx) => observeProbe(ctx.driver(primary.dsn({ database: "no_such_db" }))) }));

  it("read-only primary", () =>
    check({
      fault: "read-only primary (default_transaction_read_only = on)",
      expected: "degraded",
      run: async (ctx) => observeProbe(ctx.driver(primary.dsn({ database: "rodb" })), (r) => (r.phases.write ? "wrote anyway" : "write not attempted")),
    }));

  it("replica", () =>
    check({
      fault: "streaming replica",
      expected: "up",
      run: async (ctx) => {
        // The replica reports lag from the primary's heartbeat row: write one first.
        await ctx.driver(primary.dsn()).probe();
        const o = await observeProbe(ctx.driver(replica.dsn()), (r) => `role ${r.role}; write skipped (${r.writeSkipped ?? "not skipped"}); lag ${r.lagSeconds?.toFixed(3) ?? "unknown"} s`);
        return o;
      },
    }));

  it("table lock held elsewhere", () =>
    check(
      lockedTableCase({
        how: "EXCLUSIVE",
        dsn: primary.dsn(),
        lock: lockHealthTable,
        note: (r) => `write ${r.phases.write?.ms.toFixed(0)} ms (deadline 1 s); lock_timeout ended the wait on the server`,
      }),
    ));

  it("permission denied on CREATE", () =>
    check({
      fault: "permission denied on CREATE of the health table",
      expected: "degraded",
      run: async (ctx) => observeProbe(ctx.driver(primary.dsn({ user: "nocreate", database: "permdb" }))),
    }));

  it("TLS required, plain client", () =>
    check({
      fault: "TLS required by the server, client sslmode=disable",
      expected: "down",
      run: async (ctx) => observeProbe(ctx.driver(primary.dsn({ user: "sslonly", params: { sslmode: "disable" } }))),
    }));

  it("TLS required, verifying client", () =>
    check({
      fault: "TLS required by the server, client sslmode=verify-full",
      expected: "up",
      run: async (ctx) => observeProbe(ctx.driver(primary.dsn({ user: "sslonly", database: "tlsdb", params: { sslmode: "verify-full", sslrootcert: primary.caFile! } }))),
    }));

  const viaProxy = (port: number): string => `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`;
  it("slow server within the deadlines", () => check(slowLinkCase(primary.port, viaProxy, 40, "up")));
  it("slow server past the deadline", () => check(slowLinkCase(primary.port, viaProxy, 600, "down")));
  it("stalled connection", () => check(stalledLinkCase(primary.port, viaProxy)));

  it("server killed mid-cycle and restarted", () =>
    check(
      killedMidCycleCase({
        how: "immediate shutdown",
        dsn: primary.dsn(),
        lock: lockHealthTable,
        writeWaiting: () =>
          waitFor(
            "the probe's write to wait on the lock",
            async () => (await primary.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'db-health/%' AND wait_event_type = 'Lock'"))[0]?.n ?? 0,
            (n) => n > 0,
            5_000,
          ),
        kill: () => primary.stop("immediate"),
        start: () => primary.start(),
      }),
    ), 60_000);
});
