import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDriver, createMetrics, type ConnectionLostEvent, type Driver, type DriverDefinition } from "@alfred/db-health-core";
import { checkAdapterContract } from "./adapter-contract.js";
import { registerCheckCases } from "./checks.js";
import { wrapDefinition } from "./adapter-wrappers.js";
import { checkPruning } from "./pruning.js";
import { resolveDsn, type ConformanceOptions } from "./options.js";
import { within } from "./wait.js";

/** How soon a dropped connection must be reported: generous, the drivers take milliseconds. */
const LOST_WITHIN_MS = 2000;

/**
 * Registers the conformance suite for one driver with vitest. Every driver, ours and third
 * parties', runs it in a few lines; a driver adds tests only for what is special to it.
 *
 * @example
 * ```ts
 * // my-driver.conformance.test.ts
 * import { runConformanceSuite } from "@alfred/db-health-testkit";
 * runConformanceSuite({ driver: myDriver, dsn: "mydb://localhost/test", unreachableDsn: "mydb://127.0.0.1:1/x", countHealthRows });
 * ```
 */
export function runConformanceSuite(options: ConformanceOptions): void {
  const caps = { authentication: true, connectionCount: false, ...options.driver.capabilities, ...options.capabilities };
  const timeout = options.testTimeout ?? 60_000;
  const drivers: Driver[] = [];
  let dsn = "";
  let seq = 0;
  const make = (over: Record<string, unknown> = {}, definition: DriverDefinition = options.driver): Driver => {
    const d = createDriver(
      { dsn, probeId: `conformance-${process.pid}-${++seq}`, maxRetries: 0, retryInterval: 10, ...options.config, ...over } as never,
      { definition },
    );
    drivers.push(d);
    return d;
  };

  describe(`conformance: ${options.driver.name}`, { timeout }, () => {
    beforeAll(async () => {
      dsn = await resolveDsn(options.dsn);
    });
    afterAll(async () => {
      await Promise.allSettled(drivers.map((d) => d.close()));
    });

    it("honours the DriverAdapter contract when its adapter is called directly", async () => {
      await checkAdapterContract(options.driver, dsn, options.config);
    });

    it("connects, pings, checks read/write and closes through the Driver interface", async () => {
      const d = make();
      expect(d.status()).toBe("down");
      await d.connect();
      await d.ping();
      await d.checkReadWrite();
      expect(d.status()).toBe("up");
      const m = d.metrics();
      expect(m.db_up).toBe(1);
      for (const key of ["db_ping_latency_ms", "db_write_latency_ms", "db_read_latency_ms"]) {
        expect(m[key], key).toBeGreaterThan(0);
      }
      await d.close();
    });

    it("runs a full cycle: every phase ok, token written and verified", async () => {
      const d = make();
      const r = await d.probe();
      expect(r.problems).toEqual([]);
      expect(r.status).toBe("up");
      for (const phase of ["connect", "ping", "role", "write", "read"] as const) expect(r.phases[phase]?.ok, phase).toBe(true);
      expect(r.writeSkipped).toBeUndefined();
      if (caps.connectionCount) expect(r.connections).toBeGreaterThan(0);
    });

    it("reports a writable database as a writable primary, even an engine without replication", async () => {
      // role "unknown" would make a read-only database up (its write skipped) where the built-in
      // drivers make it degraded ("primary is read-only"): without replication, a node is a primary.
      const r = await make().probe();
      expect(r.role, `${options.driver.name}: role() must answer "primary" for a writable database, not "${r.role}"`).toBe("primary");
      expect(r.readOnly).toBe(false);
    });

    const readOnlyTitle = "reports a database that refuses writes as a degraded read-only primary";
    it.skipIf(!options.readOnlyDsn)(options.readOnlyDsn ? readOnlyTitle : `${readOnlyTitle} (not checked: no readOnlyDsn)`, async () => {
      const r = await make({ dsn: await resolveDsn(options.readOnlyDsn!) }).probe();
      expect(r.role).toBe("primary");
      expect(r.readOnly).toBe(true);
      expect(r.status, r.reason).toBe("degraded");
      expect(r.reason).toMatch(/^primary is read-only/);
    });

    it("prunes other probers' rows older than pruneAfter at a write, and keeps fresh ones", async () => {
      await checkPruning(options.driver, dsn, options.countHealthRows, options.config);
    });

    it("reports a read-back that does not return the written token as degraded", async () => {
      const { definition } = wrapDefinition(options.driver, (real) => ({
        read: async (s) => {
          await real.read(s);
          return "not-the-token";
        },
      }));
      const r = await make({}, definition).probe();
      expect(r.status).toBe("degraded");
      expect(r.reason).toMatch(/token/);
    });

    it("keeps exactly one health-table row per prober however many cycles run", async () => {
      const cycles = options.cycles ?? 100;
      const ids = [`conformance-rows-a-${process.pid}-${Date.now()}`, `conformance-rows-b-${process.pid}-${Date.now()}`];
      const [a, b] = ids.map((probeId) => make({ probeId }));
      const table = a!.config.healthTable;
      for (let i = 0; i < cycles; i++) {
        const [ra, rb] = await Promise.all([a!.probe(), b!.probe()]);
        expect(ra.status, ra.reason).toBe("up");
        expect(rb.status, rb.reason).toBe("up");
      }
      for (const id of ids) expect(await options.countHealthRows(dsn, table, id), id).toBe(1);
    });

    it("never reports a false failure when probers share a probe id", async () => {
      // Three daemons given one --probe-id, or a daemon and a --once on one host: their writes
      // interleave with each other's read-backs.
      const probeId = `conformance-shared-${process.pid}-${Date.now()}`;
      const probers = [make({ probeId }), make({ probeId }), make({ probeId })];
      const cycles = Math.max(20, Math.floor((options.cycles ?? 100) / 2));
      for (let i = 0; i < cycles; i++) {
        for (const r of await Promise.all(probers.map((p) => p.probe()))) expect(r.status, r.reason).toBe("up");
      }
      expect(await options.countHealthRows(dsn, probers[0]!.config.healthTable, probeId)).toBe(1);
    });

    it("redacts passwords from the driver's own errors", async () => {
      const secret = "Conformance-S3cret!";
      // Client libraries echo connection strings in their errors; whatever they echo, in any
      // dialect, must be gone from results and thrown errors alike.
      const { definition } = wrapDefinition(options.driver, () => ({
        connect: () =>
          Promise.reject(
            new Error(`cannot connect to postgres://app:${secret}@db:5432/x with password=${secret}; Server=db;Password=${secret};`),
          ),
      }));
      const d = make({}, definition);
      const r = await d.probe();
      expect(r.status).toBe("down");
      const thrown = await d.connect().then(
        () => "",
        (e: Error) => `${e.message}\n${String(e.stack)}`,
      );
      for (const text of [JSON.stringify(r), thrown]) {
        expect(text).not.toContain(secret);
        expect(text).toContain("***");
      }
    });

    it("shares one cycle between concurrent probe() calls (single-flight)", async () => {
      const { definition, spy } = wrapDefinition(options.driver, () => ({}));
      const d = make({}, definition);
      const results = await Promise.all([d.probe(), d.probe(), d.probe()]);
      expect(new Set(results).size).toBe(1);
      expect(spy.connects).toBe(1);
    });

    it("ends a phase at its deadline when the adapter hangs and ignores its signal", async () => {
      const { definition, spy } = wrapDefinition(options.driver, () => ({ ping: () => new Promise<void>(() => undefined) }));
      const d = make({ readTimeout: 300, maxRetries: 1, retryInterval: 50 }, definition);
      const t0 = performance.now();
      const r = await d.probe();
      const elapsed = performance.now() - t0;
      expect(r.status).toBe("down");
      expect(r.reason).toMatch(/ping timed out after 300ms/);
      expect(r.attempts).toBe(2);
      expect(spy.destroyed).toBeGreaterThanOrEqual(2);
      // two 300 ms deadlines + one 50 ms pause, plus connect time; far below any client timeout
      expect(elapsed).toBeLessThan(2 * 300 + 50 + 1500);
    });

    it("reports an unreachable target as down with a reason and counts the errors", async () => {
      const d = make({ dsn: await resolveDsn(options.unreachableDsn), maxRetries: 1, retryInterval: 10, connectTimeout: 2000 });
      const r = await d.probe();
      expect(r.status).toBe("down");
      expect(r.reason).toBeTruthy();
      expect(d.metrics().db_connection_errors_total).toBe(2);
      const metrics = createMetrics();
      metrics.observe(r);
      expect(await metrics.render()).toMatch(new RegExp(`db_up\\{db_name="${options.driver.name}",db_role="[a-z]+",target="[^"]+"\\} 0`));
    });

    const authTitle = "gives down for bad credentials without leaking the password";
    it.skipIf(!caps.authentication)(caps.authentication ? authTitle : `${authTitle} (not applicable: ${options.driver.name} has no authentication)`, async () => {
      if (!options.badCredentialsDsn || !options.badCredentialsSecret) throw new Error("badCredentialsDsn and badCredentialsSecret are required");
      const bad = await resolveDsn(options.badCredentialsDsn);
      const d = make({ dsn: bad });
      const r = await d.probe();
      expect(r.status).toBe("down");
      const secret = options.badCredentialsSecret;
      const everything = JSON.stringify(r) + (await d.connect().catch((e: Error) => `${e.message} ${String(e.stack)}`));
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(encodeURIComponent(secret));
    });

    const lostTitle = "reports a connection the server dropped within 2 s, and the next probe reconnects";
    it.skipIf(!options.dropConnections)(options.dropConnections ? lostTitle : `${lostTitle} (not checked: no dropConnections hook)`, async () => {
      const target = options.lostConnectionDsn ? await resolveDsn(options.lostConnectionDsn) : dsn;
      const probeId = `conformance-lost-${process.pid}-${++seq}`;
      const d = make({ dsn: target, probeId });
      const first = await d.probe();
      expect(first.status, first.reason).toBe("up");
      const events: ConnectionLostEvent[] = [];
      const heard = new Promise<void>((resolve) => d.onConnectionLost((e) => resolve(void events.push(e))));
      await options.dropConnections!({ dsn: target, probeId });
      await within(LOST_WITHIN_MS, heard, `${options.driver.name}: no onConnectionLost event within ${LOST_WITHIN_MS} ms of dropConnections(): call target.connectionLost(reason) when the held connection errors or closes`);
      expect(events[0]).toMatchObject({ target: d.config.name, driver: options.driver.name, reason: expect.stringMatching(/\S/) });
      const next = await d.probe();
      expect(next.status, next.reason).toBe("up");
      expect(next.attempts, "reconnected at the first attempt").toBe(1);
      expect(next.phases.connect?.ok, "the next cycle connects anew").toBe(true);
      await new Promise((res) => setTimeout(res, 100));
      expect(events, "one event per lost connection").toHaveLength(1);
    });

    describe("read-only checks", () => {
      registerCheckCases({ definition: options.driver, dsn: () => dsn, config: options.config, checks: options.checks, countHealthRows: options.countHealthRows });
    });

    it("cannot be used after close()", async () => {
      const d = make();
      expect((await d.probe()).status).toBe("up");
      await d.close();
      await d.close();
      const r = await d.probe();
      expect(r.status).toBe("down");
      expect(r.reason).toMatch(/closed/);
    });
  });
}
