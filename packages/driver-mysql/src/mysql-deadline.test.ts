import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mysql from "mysql2/promise";
import { sleep, type Driver, type TargetOptions } from "@alfred/db-health-core";
import { testDrivers, waitFor } from "@alfred/db-health-testkit";
import { mysqlDriver } from "./definition.js";
import { startMariaServer, type MariaServer } from "@alfred/db-health-test-servers";

// A throwaway MariaDB with performance_schema on, so the probe's threads are found by the
// probe_id connection attribute the driver sends. The probe logs in as an account without
// PROCESS or CONNECTION ADMIN: KILL QUERY of its own thread needs neither.
const PROBE_ID = "deadline-test";
let db: MariaServer;
let admin: mysql.Connection;
beforeAll(async () => {
  db = await startMariaServer({
    conf: { performance_schema: "ON" },
    users: [{ name: "prober", password: "prober-pw", grants: ["SELECT, INSERT, UPDATE, DELETE, CREATE ON test.*"] }],
  });
  admin = await mysql.createConnection({ host: "127.0.0.1", port: db.port, user: "root", database: "test" });
}, 120_000);
afterAll(async () => {
  await admin?.end();
  await db?.destroy();
});
const drivers = testDrivers(mysqlDriver, { maxRetries: 0, probeId: PROBE_ID });
const make = (over: Partial<TargetOptions> = {}): Driver => drivers({ dsn: db.dsn({ user: "prober", password: "prober-pw" }), ...over });

interface Thread {
  ID: number;
  STATE: string;
  program: string;
}
/** The server threads whose connection attributes carry our probe_id. */
const ours = async (): Promise<Thread[]> =>
  (
    await admin.query(
      `SELECT p.ID, p.STATE, n.ATTR_VALUE AS program
         FROM information_schema.PROCESSLIST p
         JOIN performance_schema.session_connect_attrs a ON a.PROCESSLIST_ID = p.ID AND a.ATTR_NAME = 'probe_id'
         JOIN performance_schema.session_connect_attrs n ON n.PROCESSLIST_ID = p.ID AND n.ATTR_NAME = 'program_name'
        WHERE a.ATTR_VALUE = ?
        ORDER BY p.ID`,
      [PROBE_ID],
    )
  )[0] as Thread[];
const isLockWait = (t: Thread): boolean => /^Waiting for table (metadata|level) lock$/.test(t.STATE);

describe("a missed write deadline on MariaDB", () => {
  it("ends the server-side lock wait with KILL QUERY while the lock is still held, then reconnects with one thread", async () => {
    const d = make({ writeTimeout: "400ms" });
    expect((await d.probe()).status).toBe("up");
    const [first] = await ours();
    expect(first?.program).toMatch(/^db-health\/\d+\.\d+\.\d+/);
    const locker = await mysql.createConnection({ host: "127.0.0.1", port: db.port, user: "root", database: "test" });
    try {
      await locker.query("LOCK TABLES _health_check WRITE");
      const t0 = performance.now();
      const probe = d.probe();
      const seen = await waitFor("the probe's write waiting for the lock", ours, (threads) => threads.some(isLockWait), 1000, 10);
      const waiter = seen.find(isLockWait)!;
      expect(waiter.ID).toBe(first!.ID);
      const r = await probe;
      const returned = performance.now();
      expect(r.status).toBe("degraded");
      expect(r.reason).toBe("write check failed: write timed out after 400ms");
      // lock_wait_timeout is 1 s (its floor for a 400 ms write deadline): a thread gone before
      // t0 + 1 s was ended by us, not by the server's own timeout.
      let left = await ours();
      while (left.some((t) => t.ID === waiter.ID) && performance.now() - returned < 300) {
        await sleep(10);
        left = await ours();
      }
      const gone = performance.now();
      expect(left.filter((t) => t.ID === waiter.ID || isLockWait(t))).toEqual([]);
      expect(gone - t0).toBeLessThan(1000);
    } finally {
      await locker.query("UNLOCK TABLES");
      await locker.end();
    }
    const next = await d.probe();
    expect(next.status, next.reason).toBe("up");
    const threads = await ours();
    expect(threads).toHaveLength(1);
    expect(threads[0]!.ID).not.toBe(first!.ID);
  });
});
