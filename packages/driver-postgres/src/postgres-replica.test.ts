import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep, type Driver, type TargetOptions } from "@alfred/db-health-core";
import { testDrivers, waitFor } from "@alfred/db-health-testkit";
import { postgresDriver } from "./definition.js";
import { startCluster, type PgCluster } from "@alfred/db-health-test-servers";

// A throwaway primary with a streaming replica (initdb + pg_basebackup on loopback ports).
let primary: PgCluster;
let replica: PgCluster;
beforeAll(async () => {
  primary = await startCluster();
  replica = await primary.createReplica();
}, 180_000);
afterAll(async () => {
  await Promise.allSettled([replica?.destroy(), primary?.destroy()]);
});
const drivers = testDrivers(postgresDriver, { maxRetries: 0, probeId: (i) => `replica-test-${i}` });
const make = (dsn: string, over: Partial<TargetOptions> = {}): Driver => drivers({ dsn, ...over });

describe("postgres primary and streaming replica", () => {
  it("falls back to pg_last_xact_replay_timestamp() before any heartbeat row exists", async () => {
    await primary.query("CREATE TABLE replay_marker (id int); INSERT INTO replay_marker VALUES (1)");
    const onReplica = make(replica.dsn());
    const r = await waitFor("replayed lag", () => onReplica.probe(), (x) => x.lagSeconds !== undefined);
    expect(r.status, r.reason).toBe("up");
    expect(r.role).toBe("replica");
    expect(r.lagSeconds).toBeGreaterThanOrEqual(0);
    // no health table on the replica yet: the read falls back to the catalog and succeeds
    expect(r.phases.read?.ok).toBe(true);
    expect(r.writeSkipped).toBe("node is a replica");
    // the same replica probe reads the table once a primary prober created it
    const onPrimary = make(primary.dsn(), { probeId: "heartbeat" });
    expect((await onPrimary.probe()).status).toBe("up");
    await waitFor("the heartbeat row on the replica", () => replica.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_class WHERE relname = '_health_check'"), (rows) => rows[0]?.n === 1);
    await new Promise((res) => setTimeout(res, 1500));
    // a fresh transaction makes the replay timestamp ~0 s old; the heartbeat is 1.5 s old
    await primary.query("INSERT INTO replay_marker VALUES (2)");
    await waitFor("the marker on the replica", () => replica.query<{ n: number }>("SELECT count(*)::int AS n FROM replay_marker"), (rows) => rows[0]?.n === 2);
    // caught up: the lag is the smaller of the two ages, not the heartbeat's 1.5 s
    const later = await onReplica.probe();
    expect(later.lagSeconds).toBeLessThan(1);
  });

  it("detects the replica, never writes there, and reports lag from the primary's heartbeat", async () => {
    const onPrimary = make(primary.dsn(), { probeId: "heartbeat" });
    expect((await onPrimary.probe()).status).toBe("up");
    const onReplica = make(replica.dsn());
    // the heartbeat row and the table reach the replica
    await waitFor(
      "the heartbeat row on the replica",
      () => replica.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_class WHERE relname = '_health_check'"),
      (rows) => rows[0]?.n === 1,
    );
    const r = await waitFor("lag on the replica", () => onReplica.probe(), (x) => x.lagSeconds !== undefined && x.phases.read?.ok === true);
    expect(r.status, r.reason).toBe("up");
    expect(r.role).toBe("replica");
    expect(r.writeSkipped).toBe("node is a replica");
    expect(r.phases.write).toBeUndefined();
    expect(r.lagSeconds).toBeLessThan(5);
    // the replica never received a write from the probe: it refuses writes, and our row is absent
    const rows = await replica.query<{ probe_id: string }>("SELECT probe_id FROM _health_check ORDER BY probe_id");
    expect(rows.map((x) => x.probe_id)).toEqual(["heartbeat"]);
  });

  it("reports rising lag when the primary's heartbeat stops, and degrades past maxReplicationLag", async () => {
    const onPrimary = make(primary.dsn(), { probeId: "heartbeat" });
    await onPrimary.probe();
    const onReplica = make(replica.dsn(), { maxReplicationLag: "2s" });
    const fresh = await waitFor("fresh lag", () => onReplica.probe(), (x) => x.lagSeconds !== undefined && x.lagSeconds < 1.5);
    expect(fresh.status).toBe("up");
    await sleep(2500); // no heartbeat written meanwhile
    const stale = await onReplica.probe();
    expect(stale.lagSeconds!).toBeGreaterThan(fresh.lagSeconds! + 2);
    expect(stale.status).toBe("degraded");
    expect(stale.reason).toMatch(/^replication lag \d+\.\ds is over the 2s limit$/);
    await onPrimary.probe(); // heartbeat resumes
    const back = await waitFor("lag back down", () => onReplica.probe(), (x) => x.lagSeconds !== undefined && x.lagSeconds < 1.5);
    expect(back.status).toBe("up");
  });

  it("goes down when the primary is killed and up again when it restarts, without a new probe", async () => {
    const d = make(primary.dsn(), { connectTimeout: "1s", readTimeout: "1s" });
    expect((await d.probe()).status).toBe("up");
    await primary.stop("immediate");
    const down = await d.probe();
    expect(down.status).toBe("down");
    await primary.start();
    const up = await waitFor("primary back", () => d.probe(), (x) => x.status === "up");
    expect(up.role).toBe("primary");
    expect(d.status()).toBe("up");
  });
});
