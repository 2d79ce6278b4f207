import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDriver } from "@alfred/db-health-core";
import { postgresDriver } from "./definition.js";
import { startCluster, type PgCluster } from "./__fixtures__/pg-cluster.js";

// A probe must never pile up backends on a server that stops answering its statements. Two
// minutes of misery, probed every second as the daemon would: the health table locked by
// another session for HUNG_SECONDS (the server still answers pg_stat_activity, so backends can
// be counted while it lasts), then the whole server frozen (SIGSTOP) for a third of that.
const HUNG_SECONDS = Number(process.env.DB_HEALTH_HUNG_SECONDS ?? 60);
const APP = "db-health/1.0.0 hung-test";
let cluster: PgCluster;
beforeAll(async () => {
  cluster = await startCluster();
}, 120_000);
afterAll(async () => {
  await cluster?.destroy();
});

const ourBackends = async (): Promise<number> =>
  (await cluster.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [APP]))[0]!.n;

describe("postgres driver on a hung server", () => {
  it(`holds at most one backend during ${HUNG_SECONDS} s of a locked health table`, async () => {
    const d = createDriver({ dsn: cluster.dsn(), probeId: "hung-test", maxRetries: 0, readTimeout: "1s", writeTimeout: "1s" }, { definition: postgresDriver });
    expect((await d.probe()).status).toBe("up");
    const locker = await cluster.query("SELECT 1").then(async () => {
      const pg = (await import("pg")).default;
      const c = new pg.Client({ connectionString: cluster.dsn() });
      await c.connect();
      await c.query("BEGIN");
      await c.query('LOCK TABLE "_health_check" IN ACCESS EXCLUSIVE MODE');
      return c;
    });
    let maxBackends = 0;
    const statuses = new Map<string, number>();
    const stop = Date.now() + HUNG_SECONDS * 1000;
    const sampler = (async () => {
      while (Date.now() < stop) {
        maxBackends = Math.max(maxBackends, await ourBackends());
        await new Promise((res) => setTimeout(res, 250));
      }
    })();
    let cycles = 0;
    while (Date.now() < stop) {
      const started = Date.now();
      const r = await d.probe();
      cycles++;
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      await new Promise((res) => setTimeout(res, Math.max(0, 1000 - (Date.now() - started))));
    }
    await sampler;
    await locker.query("ROLLBACK");
    await locker.end();
    console.log(`locked ${HUNG_SECONDS}s: ${cycles} cycles ${JSON.stringify(Object.fromEntries(statuses))}, most backends seen in pg_stat_activity: ${maxBackends}`);
    expect(statuses.get("degraded")).toBe(cycles);
    expect(maxBackends).toBe(1);
    expect((await d.probe()).status).toBe("up");
    expect(await ourBackends()).toBe(1);
    await d.close();
  }, (HUNG_SECONDS + 60) * 1000);

  it(`is down while the server is frozen for ${Math.ceil(HUNG_SECONDS / 3)} s and leaves no backend behind after`, async () => {
    const d = createDriver({ dsn: cluster.dsn(), probeId: "hung-test", maxRetries: 0, connectTimeout: "1s", readTimeout: "1s", writeTimeout: "1s" }, { definition: postgresDriver });
    expect((await d.probe()).status).toBe("up");
    cluster.pause();
    const stop = Date.now() + Math.ceil(HUNG_SECONDS / 3) * 1000;
    let cycles = 0;
    let slowest = 0;
    try {
      while (Date.now() < stop) {
        const started = Date.now();
        const r = await d.probe();
        cycles++;
        slowest = Math.max(slowest, Date.now() - started);
        expect(r.status).toBe("down");
        await new Promise((res) => setTimeout(res, Math.max(0, 1000 - (Date.now() - started))));
      }
    } finally {
      cluster.resume();
    }
    // Connections queued in the kernel while the postmaster was stopped are accepted now and
    // find their client gone; within a few seconds only the probe's own connection remains.
    let r = await d.probe();
    for (let i = 0; i < 20 && r.status !== "up"; i++) r = await d.probe();
    expect(r.status).toBe("up");
    let after = await ourBackends();
    for (let i = 0; i < 50 && after > 1; i++) {
      await new Promise((res) => setTimeout(res, 100));
      after = await ourBackends();
    }
    console.log(`frozen ${Math.ceil(HUNG_SECONDS / 3)}s: ${cycles} cycles all down, slowest cycle ${slowest} ms, our backends after resume: ${after}`);
    expect(slowest).toBeLessThan(1500);
    expect(after).toBe(1);
    await d.close();
  }, (HUNG_SECONDS + 60) * 1000);
});
