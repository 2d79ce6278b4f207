import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDriver, type ConnectionLostEvent, type Driver } from "@alfred/db-health-core";
import { within } from "@alfred/db-health-testkit";
import { postgresDriver } from "./definition.js";
import { startCluster, type PgCluster } from "@alfred/db-health-test-servers";

// A server that dies under a connected driver: pg hears of it on the idle connection at once,
// and the driver must say so then, not at the next probe (up to one interval later).
let cluster: PgCluster;
beforeAll(async () => {
  cluster = await startCluster();
}, 120_000);
afterAll(async () => {
  await cluster?.destroy();
});

const connected = async (probeId: string): Promise<{ driver: Driver; events: ConnectionLostEvent[]; heard: Promise<void> }> => {
  const driver = createDriver({ dsn: cluster.dsn(), maxRetries: 0, connectTimeout: "2s", probeId }, { definition: postgresDriver });
  const first = await driver.probe();
  expect(first.status, first.reason).toBe("up");
  const events: ConnectionLostEvent[] = [];
  const heard = new Promise<void>((resolve) => driver.onConnectionLost((e) => resolve(void events.push(e))));
  return { driver, events, heard };
};

describe("a PostgreSQL server stopped under a connected driver", () => {
  it("is reported within 2 s of pg_ctl stop -m immediate; the next probe is down, and up after a restart", async () => {
    const { driver, events, heard } = await connected(`lost-immediate-${process.pid}`);
    try {
      const t0 = performance.now();
      const stopping = cluster.stop("immediate");
      await within(2000, heard, "no onConnectionLost event within 2 s of pg_ctl stop -m immediate");
      const ms = performance.now() - t0;
      await stopping;
      console.log(`connection lost reported ${ms.toFixed(0)} ms after pg_ctl stop -m immediate began: ${events[0]?.reason}`);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ driver: "postgres", reason: expect.stringMatching(/terminat|shutdown|closed/i) });
      const down = await driver.probe();
      expect(down.status).toBe("down");
      expect(down.reason).toMatch(/^connect failed: connect ECONNREFUSED/);
      await cluster.start();
      const up = await driver.probe();
      expect(up.status, up.reason).toBe("up");
      expect(up.attempts).toBe(1);
      expect(events).toHaveLength(1);
    } finally {
      await cluster.start();
      await driver.close();
    }
  });

  it("is not reported for the driver's own close, nor after it", async () => {
    const { driver, events } = await connected(`lost-own-close-${process.pid}`);
    await driver.close();
    await cluster.stop("immediate");
    await cluster.start();
    await new Promise((res) => setTimeout(res, 200));
    expect(events).toEqual([]);
  });
});
