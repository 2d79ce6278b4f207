import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep, type Driver, type TargetOptions } from "@alfred/db-health-core";
import { testDrivers, waitFor } from "@alfred/db-health-testkit";
import { mysqlDriver } from "./definition.js";
import { startMariaServer, type MariaServer } from "@alfred/db-health-test-servers";

// A throwaway MariaDB primary with a replica (own datadirs and loopback ports).
let primary: MariaServer;
let replica: MariaServer;
beforeAll(async () => {
  primary = await startMariaServer();
  replica = await primary.createReplica();
}, 180_000);
afterAll(async () => {
  await Promise.allSettled([replica?.destroy(), primary?.destroy()]);
});
const drivers = testDrivers(mysqlDriver, { maxRetries: 0, probeId: (i) => `replica-test-${i}` });
const make = (dsn: string, over: Partial<TargetOptions> = {}): Driver => drivers({ dsn, ...over });
const hasHeartbeat = async (): Promise<boolean> =>
  (await replica.query("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'test' AND table_name = '_health_check'"))[0]?.[0] === "1";

describe("mariadb primary and replica", () => {
  it("detects the replica, never writes there, and reports lag from the primary's heartbeat", async () => {
    const onPrimary = make(primary.dsn(), { probeId: "heartbeat" });
    expect((await onPrimary.probe()).status).toBe("up");
    await waitFor("the heartbeat table on the replica", hasHeartbeat, (x) => x);
    const onReplica = make(replica.dsn());
    const r = await waitFor("lag on the replica", () => onReplica.probe(), (x) => x.lagSeconds !== undefined);
    expect(r.status, r.reason).toBe("up");
    expect(r.role).toBe("replica");
    expect(r.writeSkipped).toBe("node is a replica");
    expect(r.phases.write).toBeUndefined();
    expect(r.lagSeconds).toBeLessThan(5);
    const rows = await replica.query("SELECT probe_id FROM test._health_check ORDER BY probe_id");
    expect(rows.map((x) => x[0])).toEqual(["heartbeat"]);
  });

  it("falls back to Seconds_Behind_Master while no heartbeat row exists, creating nothing on the replica", async () => {
    const table = "_health_fallback";
    const tables = async (): Promise<string> => (await replica.query(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'test' AND table_name = '${table}'`))[0]![0]!;
    const noTable = await make(replica.dsn(), { healthTable: table }).probe();
    expect(noTable.status, noTable.reason).toBe("up");
    expect(noTable.role).toBe("replica");
    // A heartbeat age is never a whole 0; a caught-up replica's Seconds_Behind_Master is.
    expect(noTable.lagSeconds).toBe(0);
    expect(noTable.phases.read?.ok).toBe(true);
    expect(await tables()).toBe("0");
    // a write forced onto the replica is refused with the reason, still creating nothing
    const forced = await make(replica.dsn(), { healthTable: table, writeCheck: "always" }).probe();
    expect(forced.status).toBe("degraded");
    expect(forced.reason).toMatch(/is missing and cannot be created: the node reports replica status/);
    expect(await tables()).toBe("0");
    await primary.query(`CREATE TABLE ${table} (probe_id VARCHAR(128) PRIMARY KEY, token VARCHAR(64) NOT NULL, checked_at DATETIME(6) NOT NULL)`);
    try {
      await waitFor("the empty table on the replica", tables, (n) => n === "1");
      const emptyTable = await make(replica.dsn(), { healthTable: table }).probe();
      expect(emptyTable.status, emptyTable.reason).toBe("up");
      expect(emptyTable.lagSeconds).toBe(0);
      expect(emptyTable.problems).toEqual([]);
    } finally {
      await primary.query(`DROP TABLE ${table}`);
    }
  });

  it("reports rising lag when the primary's heartbeat stops, and degrades past maxReplicationLag", async () => {
    const onPrimary = make(primary.dsn(), { probeId: "heartbeat" });
    await onPrimary.probe();
    const onReplica = make(replica.dsn(), { maxReplicationLag: "2s" });
    const fresh = await waitFor("fresh lag", () => onReplica.probe(), (x) => x.lagSeconds !== undefined && x.lagSeconds < 1.5);
    expect(fresh.status).toBe("up");
    await sleep(2500);
    const stale = await onReplica.probe();
    expect(stale.lagSeconds!).toBeGreaterThan(fresh.lagSeconds! + 2);
    expect(stale.status).toBe("degraded");
    expect(stale.reason).toMatch(/^replication lag \d+\.\ds is over the 2s limit$/);
  });

  it("goes down when the primary is killed and up again when it restarts, without a new probe", async () => {
    const d = make(primary.dsn(), { connectTimeout: "1s", readTimeout: "1s" });
    expect((await d.probe()).status).toBe("up");
    await primary.stop("kill");
    expect((await d.probe()).status).toBe("down");
    await primary.start();
    const up = await waitFor("primary back", () => d.probe(), (x) => x.status === "up");
    expect(up.role).toBe("primary");
  });
});
