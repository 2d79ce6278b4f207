import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDriver, type ConnectionLostEvent, type Driver } from "@alfred/db-health-core";
import { within } from "@alfred/db-health-testkit";
import { fakeTdsServer, type FakeTdsServer } from "./__fixtures__/fake-tds.js";
import { mssqlDriver } from "./definition.js";

// No SQL Server runs here: a loopback server that logs tedious in and answers every statement,
// then closes the sockets as a server that died would. What is tested is tedious's and mssql's
// behaviour on a lost socket, and the driver's report of it.
const PASSWORD = "Not-The-Password1";
let tds: FakeTdsServer;
beforeAll(async () => {
  tds = await fakeTdsServer("accept");
});
afterAll(async () => {
  await tds?.close();
});

const connected = async (): Promise<{ driver: Driver; events: ConnectionLostEvent[]; heard: Promise<void> }> => {
  const driver = createDriver({ dsn: `sqlserver://sa:${PASSWORD}@127.0.0.1:${tds.port}/master?encrypt=false`, maxRetries: 0, connectTimeout: "5s" }, { definition: mssqlDriver });
  await driver.connect();
  await driver.ping();
  const events: ConnectionLostEvent[] = [];
  const heard = new Promise<void>((resolve) => driver.onConnectionLost((e) => resolve(void events.push(e))));
  return { driver, events, heard };
};

describe("mssql driver when the server closes its connection", () => {
  it("reports the lost connection within 2 s, and the next probe connects anew", async () => {
    const { driver, events, heard } = await connected();
    try {
      expect(tds.dropConnections()).toBeGreaterThan(0);
      await within(2000, heard, "no onConnectionLost event within 2 s of the server closing the socket");
      expect(events).toEqual([{ target: "mssql", driver: "mssql", reason: expect.stringMatching(/Connection lost - socket hang up|closed/), at: expect.any(Number) }]);
      expect(JSON.stringify(events)).not.toContain(PASSWORD);
      const logins = tds.logins.length;
      // The fake answers no SELECT with rows, so the read-back check fails: what counts is that
      // the cycle reconnected at its first attempt and the ping answered.
      const r = await driver.probe();
      expect(r.attempts).toBe(1);
      expect(r.phases.connect?.ok, r.phases.connect?.error).toBe(true);
      expect(r.phases.ping?.ok).toBe(true);
      expect(tds.logins.length).toBeGreaterThan(logins);
      expect(events).toHaveLength(1);
    } finally {
      await driver.close();
    }
  });

  it("reports nothing for its own close", async () => {
    const { driver, events } = await connected();
    await driver.close();
    tds.dropConnections();
    await new Promise((res) => setTimeout(res, 200));
    expect(events).toEqual([]);
  });
});
