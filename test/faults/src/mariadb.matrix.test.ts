import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@alfred/db-health-testkit";
import { mysqlDriver } from "@alfred/db-health-driver-mysql/definition";
import { startMariaServer, type MariaServer } from "@alfred/db-health-test-servers";
import { describeRow, observeProbe, runCase, type CaseSpec } from "./matrix/case.js";
import { blackholeCase, killedMidCycleCase, lockedTableCase, refusedCase, slowLinkCase, stalledLinkCase, wrongPasswordCase } from "./matrix/server-cases.js";
import { createMatrix } from "./matrix/record.js";

// The MariaDB column of the fault matrix, against a throwaway server (TLS on, one account that
// must use it) and its GTID replica. Rows go to docs/fault-matrix.md.
const APP_PASSWORD = "Matrix-Right-pw-7";
const WRONG_PASSWORD = "Matrix-Wrong-pw-9";
let primary: MariaServer;
let replica: MariaServer;
const meta: Record<string, string> = {};
const matrix = createMatrix("mariadb", meta);

/** client sessions on the primary and the replica, apart from replication and the counting one */
const SESSIONS_SQL =
  "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND USER NOT IN ('system user', 'event_scheduler', 'repl') AND COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Slave_IO', 'Slave_SQL', 'Slave_worker')";
const sessions = async (): Promise<number> => {
  let n = 0;
  for (const s of [primary, replica]) n += Number((await s.query(SESSIONS_SQL).catch(() => [["0"]]))[0]?.[0] ?? 0);
  return n;
};

const check = async (spec: CaseSpec): Promise<void> => {
  const row = await runCase(matrix, mysqlDriver, sessions, spec);
  expect(row.pass, describeRow(row)).toBe(true);
};

/** a root session holding `LOCK TABLES _health_check WRITE` on the primary; resolves to its release */
async function lockHealthTable(): Promise<() => Promise<void>> {
  const locker = await mysql.createConnection({ host: "127.0.0.1", port: primary.port, user: "root", database: "test", ssl: undefined });
  locker.on("error", () => {}); // the server may be killed under it
  await locker.query("LOCK TABLES _health_check WRITE");
  return () => locker.end();
}

beforeAll(async () => {
  primary = await startMariaServer({
    ssl: true,
    databases: ["permdb"],
    users: [
      { name: "app", password: APP_PASSWORD, grants: ["ALL ON test.*"] },
      { name: "sslonly", requireSsl: true, grants: ["ALL ON test.*"] },
      { name: "nocreate", grants: ["SELECT, INSERT, UPDATE, DELETE ON permdb.*"] },
    ],
  });
  replica = await primary.createReplica();
  meta["server"] = `MariaDB ${(await primary.query("SELECT VERSION()"))[0]?.[0] ?? "?"}`;
}, 180_000);

afterAll(async () => {
  matrix.flush();
  await Promise.allSettled([replica?.destroy(), primary?.destroy()]);
});

const plain = { tls: "false" };

describe("fault matrix: MariaDB", () => {
  it("healthy primary", () => check({ fault: "healthy primary (baseline)", expected: "up", run: async (ctx) => observeProbe(ctx.driver(primary.dsn({ params: plain }))) }));

  it("refused port", () => check(refusedCase((port) => `mysql://root@tcp(127.0.0.1:${port})/test`)));

  it("blackhole listener", () => check(blackholeCase((port) => `mysql://root@tcp(127.0.0.1:${port})/test`)));

  it("wrong password", () => check(wrongPasswordCase(primary.dsn({ user: "app", password: WRONG_PASSWORD, params: plain }), WRONG_PASSWORD)));

  it("no password", () =>
    check({ fault: "no password given, the account has one", expected: "down", run: async (ctx) => observeProbe(ctx.driver(primary.dsn({ user: "app", params: plain }))) }));

  it("missing database", () =>
    check({ fault: "missing database", expected: "down", run: async (ctx) => observeProbe(ctx.driver(primary.dsn({ database: "no_such_db", params: plain }))) }));

  it("read-only primary", () =>
    check({
      fault: "read-only primary (SET GLOBAL read_only = ON)",
      expected: "degraded",
      run: async (ctx) => {
        await primary.query("SET GLOBAL read_only = ON");
        ctx.defer(() => primary.query("SET GLOBAL read_only = OFF"));
        return observeProbe(ctx.driver(primary.dsn({ user: "app", password: APP_PASSWORD, params: plain })), (r) => (r.phases.write ? "wrote anyway" : "write not attempted"));
      },
    }));

  it("replica", () =>
    check({
      fault: "GTID replica (read_only = ON)",
      expected: "up",
      run: async (ctx) => {
        await ctx.driver(primary.dsn({ params: plain })).probe(); // a fresh heartbeat row to measure lag from
        return observeProbe(ctx.driver(replica.dsn({ params: plain })), (r) => `role ${r.role}; write skipped (${r.writeSkipped ?? "not skipped"}); lag ${r.lagSeconds?.toFixed(3) ?? "unknown"} s`);
      },
    }));

  it("table lock held elsewhere", () =>
    check(
      lockedTableCase({
        how: "LOCK TABLES … WRITE",
        dsn: primary.dsn({ params: plain }),
        lock: lockHealthTable,
        // LOCK TABLES … WRITE blocks reads too: the read-back then waits out its own deadline.
        note: (r) => `write ${r.phases.write?.ms.toFixed(0)} ms, read-back ${r.phases.read?.ms.toFixed(0)} ms (deadlines 1 s each; a WRITE lock blocks reads too)`,
      }),
    ));

  it("permission denied on CREATE", () =>
    check({
      fault: "permission denied on CREATE of the health table",
      expected: "degraded",
      run: async (ctx) => observeProbe(ctx.driver(primary.dsn({ user: "nocreate", database: "permdb", params: plain }))),
    }));

  it("TLS required, plain client", () =>
    check({
      fault: "TLS required for the account (REQUIRE SSL), client tls=false",
      expected: "down",
      run: async (ctx) => observeProbe(ctx.driver(primary.dsn({ user: "sslonly", params: plain }))),
    }));

  it("TLS required, verifying client", () =>
    check({
      fault: "TLS required for the account (REQUIRE SSL), client ssl-mode=VERIFY_IDENTITY",
      expected: "up",
      run: async (ctx) => observeProbe(ctx.driver(primary.dsn({ user: "sslonly", params: { "ssl-mode": "VERIFY_IDENTITY", "ssl-ca": primary.caFile! } }))),
    }));

  const viaProxy = (port: number): string => `mysql://root@tcp(127.0.0.1:${port})/test?tls=false`;
  it("slow server within the deadlines", () => check(slowLinkCase(primary.port, viaProxy, 40, "up")));
  it("slow server past the deadline", () => check(slowLinkCase(primary.port, viaProxy, 600, "down")));
  it("stalled connection", () => check(stalledLinkCase(primary.port, viaProxy)));

  it("server killed mid-cycle and restarted", () =>
    check(
      killedMidCycleCase({
        how: "SIGKILL",
        dsn: primary.dsn({ params: plain }),
        lock: lockHealthTable,
        writeWaiting: () =>
          waitFor(
            "the probe's write to wait on the lock",
            async () => Number((await primary.query("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE STATE LIKE 'Waiting for table%'"))[0]?.[0] ?? 0),
            (n) => n > 0,
            5_000,
          ),
        kill: () => primary.stop("kill"),
        start: () => primary.start(),
      }),
    ), 60_000);
});
