import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { type Driver, type TargetOptions } from "@alfred/db-health-core";
import { testDrivers } from "@alfred/db-health-testkit";
import { startCluster, type PgCluster } from "@alfred/db-health-test-servers";
import { postgresDriver } from "./definition.js";

// db_connections against db_connections_max depends on what the probe's role may see in
// pg_stat_activity: another role's session shows backend_type NULL without pg_read_all_stats.
const drivers = testDrivers(postgresDriver);
afterAll(() => drivers.closeAll());
const make = (dsn: string, over: Partial<TargetOptions> = {}): Driver => drivers({ dsn, maxRetries: 0, ...over });

describe("postgres: the connection count and the probe role's privileges", () => {
  let db: PgCluster;
  const others: pg.Client[] = [];
  beforeAll(async () => {
    db = await startCluster({ users: [{ name: "plain", password: "pw-plain" }, { name: "monitor", password: "pw-monitor" }] });
    await db.query("GRANT pg_read_all_stats TO monitor; GRANT ALL ON SCHEMA public TO plain, monitor");
    // three sessions of another role (the superuser) in the same database
    for (let i = 0; i < 3; i++) {
      const c = new pg.Client({ connectionString: db.dsn({ params: { sslmode: "disable" } }) });
      await c.connect();
      others.push(c);
    }
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(others.map((c) => c.end()));
    await db?.destroy();
  });

  it("a role without pg_read_all_stats counts only its own sessions; with it (or pg_monitor), every client backend", async () => {
    const plain = await make(db.dsn({ user: "plain", password: "pw-plain", params: { sslmode: "disable" } })).probe();
    expect(plain.status, plain.reason).not.toBe("down");
    expect(plain.connections).toBe(1);
    const monitor = await make(db.dsn({ user: "monitor", password: "pw-monitor", params: { sslmode: "disable" } })).probe();
    expect(monitor.status, monitor.reason).not.toBe("down");
    expect(monitor.connections).toBeGreaterThanOrEqual(4);
    // the limit does not depend on the role
    expect(plain.connectionsMax).toBe(monitor.connectionsMax);
  });
});
