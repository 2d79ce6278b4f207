import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import pg from "pg";
import { createMetrics, type Driver, type TargetOptions } from "@alfred/db-health-core";
import { testDrivers } from "@alfred/db-health-testkit";
import { startCluster, type PgCluster } from "@alfred/db-health-test-servers";
import { postgresDriver } from "./definition.js";

// Issue 19 against a real server: the connection limit (db_connections_max) and the TLS
// certificate's expiry (db_tls_certificate_expiry_timestamp_seconds). One throwaway cluster with
// odd limits and a server certificate valid for 10 days serves every case.
const drivers = testDrivers(postgresDriver);
afterAll(() => drivers.closeAll());
const make = (dsn: string, over: Partial<TargetOptions> = {}): Driver => drivers({ dsn, maxRetries: 0, ...over });

describe("postgres: connection limit and certificate expiry", () => {
  let db: PgCluster;
  beforeAll(async () => {
    db = await startCluster({ ssl: { days: 10 }, conf: { max_connections: 37, superuser_reserved_connections: 2 } });
  }, 120_000);
  afterAll(async () => {
    await db?.destroy();
  });

  /** The server certificate's notAfter, read from its file, in ms since the epoch. */
  const notAfter = (): number => Date.parse(new X509Certificate(readFileSync(db.certFile!)).validTo);

  it("reports the limit an application meets: max_connections less the superuser-reserved slots", async () => {
    const [row] = await db.query<{ max: string; reserved: string }>("SELECT current_setting('max_connections') AS max, current_setting('superuser_reserved_connections') AS reserved");
    expect(row).toEqual({ max: "37", reserved: "2" });
    const r = await make(db.dsn({ params: { sslmode: "disable" } })).probe();
    expect(r.status, r.reason).toBe("up");
    expect(r.connectionsMax).toBe(35);
    expect(r.connections).toBeGreaterThanOrEqual(1);
  });

  it("reads the limit with the count: no statement of its own in a cycle", async () => {
    const d = make(db.dsn({ params: { sslmode: "disable" } }));
    expect((await d.probe()).status).toBe("up");
    const spy = vi.spyOn(pg.Client.prototype, "query");
    try {
      const r = await d.probe();
      expect(r.connectionsMax).toBe(35);
      const statements = spy.mock.calls.map((c) => String(typeof c[0] === "string" ? c[0] : (c[0] as { text?: string }).text));
      // ping, role, write, read, connections (the prune runs at most once a minute, not here)
      expect(statements).toHaveLength(5);
      expect(statements.filter((s) => s.includes("max_connections"))).toHaveLength(1);
      expect(statements.at(-1)).toMatch(/count\(\*\).*max_connections/s);
    } finally {
      spy.mockRestore();
    }
  });

  it("reports the server certificate's notAfter over TLS, to the second, verify-full with the CA and sslmode=require", async () => {
    const expected = notAfter();
    // 10 days from now, as asked of the harness
    expect(Math.abs(expected - Date.now() - 10 * 86_400_000)).toBeLessThan(86_400_000);
    for (const params of [{ sslmode: "verify-full", sslrootcert: db.caFile! }, { sslmode: "require" }]) {
      const r = await make(db.dsn({ params })).probe();
      expect(r.status, r.reason).toBe("up");
      expect(r.certificateExpiresAt, params.sslmode).toBe(expected);
    }
  });

  it("reports no certificate without TLS", async () => {
    const plain = await make(db.dsn({ params: { sslmode: "disable" } })).probe();
    expect(plain.status).toBe("up");
    expect("certificateExpiresAt" in plain).toBe(false);
  });

  it("puts both in the Prometheus text (core's metrics with the real driver)", async () => {
    const r = await make(db.dsn({ params: { sslmode: "verify-full", sslrootcert: db.caFile! } }), { name: "tls-pg" }).probe();
    const metrics = createMetrics({ legacyNames: false });
    metrics.observe(r);
    const text = await metrics.render();
    const L = 'db_name="postgres",db_role="primary",target="tls-pg"';
    expect(text).toContain(`db_connections_max{${L}} 35\n`);
    expect(text).toContain(`db_tls_certificate_expiry_timestamp_seconds{${L}} ${notAfter() / 1000}\n`);
    console.log(text.split("\n").filter((l) => /^db_(connections|tls)/.test(l)).join("\n"));
  });
});
