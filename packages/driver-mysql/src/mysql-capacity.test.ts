import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createMetrics, type Driver, type TargetOptions } from "@alfred/db-health-core";
import { testDrivers } from "@alfred/db-health-testkit";
import { startMariaServer, type MariaServer } from "@alfred/db-health-test-servers";
import { mysqlDriver } from "./definition.js";
import { LIMIT_REFRESH_MS } from "./mysql-adapter.js";

// Issue 19 against a real MariaDB: the connection limit (db_connections_max) and the TLS
// certificate's expiry (db_tls_certificate_expiry_timestamp_seconds). One throwaway server with
// max_connections=37 and a server certificate valid for 10 days serves every case.
const drivers = testDrivers(mysqlDriver);
afterAll(() => drivers.closeAll());
const make = (dsn: string, over: Partial<TargetOptions> = {}): Driver => drivers({ dsn, maxRetries: 0, ...over });

describe("mysql (MariaDB): connection limit and certificate expiry", () => {
  let db: MariaServer;
  beforeAll(async () => {
    db = await startMariaServer({ ssl: { days: 10 }, conf: { max_connections: 37 } });
  }, 120_000);
  afterAll(async () => {
    await db?.destroy();
  });

  const notAfter = (): number => Date.parse(new X509Certificate(readFileSync(db.certFile!)).validTo);
  const plain = (): string => db.dsn({ params: { "ssl-mode": "DISABLED" } });

  it("reports @@max_connections, read at connect and again after SET GLOBAL once the refresh is due", async () => {
    expect(await db.query("SELECT @@GLOBAL.max_connections")).toEqual([["37"]]);
    const d = make(plain());
    const first = await d.probe();
    expect(first.status, first.reason).toBe("up");
    expect(first.connectionsMax).toBe(37);
    await db.query("SET GLOBAL max_connections = 41");
    try {
      // the same connection keeps the value it read until the refresh is due
      expect((await d.probe()).connectionsMax).toBe(37);
      // a new connection reads it at connect
      expect((await make(plain()).probe()).connectionsMax).toBe(41);
      // LIMIT_REFRESH_MS later (the clock moved on, not waited for) the old connection reads it again
      const now = performance.now.bind(performance);
      const later = vi.spyOn(performance, "now").mockImplementation(() => now() + LIMIT_REFRESH_MS);
      try {
        expect((await d.probe()).connectionsMax).toBe(41);
      } finally {
        later.mockRestore();
      }
    } finally {
      await db.query("SET GLOBAL max_connections = 37");
    }
  });

  it("reports the server certificate's notAfter over TLS, to the second, VERIFY_IDENTITY with the CA and REQUIRED", async () => {
    const expected = notAfter();
    expect(Math.abs(expected - Date.now() - 10 * 86_400_000)).toBeLessThan(86_400_000);
    for (const params of [{ "ssl-mode": "VERIFY_IDENTITY", "ssl-ca": db.caFile! }, { "ssl-mode": "REQUIRED" }]) {
      const r = await make(db.dsn({ params })).probe();
      expect(r.status, r.reason).toBe("up");
      expect(r.certificateExpiresAt, params["ssl-mode"]).toBe(expected);
    }
  });

  it("reports no certificate without TLS", async () => {
    const r = await make(plain()).probe();
    expect(r.status).toBe("up");
    expect("certificateExpiresAt" in r).toBe(false);
  });

  it("puts both in the Prometheus text (core's metrics with the real driver)", async () => {
    const r = await make(db.dsn({ params: { "ssl-mode": "VERIFY_IDENTITY", "ssl-ca": db.caFile! } }), { name: "tls-maria" }).probe();
    const metrics = createMetrics({ legacyNames: false });
    metrics.observe(r);
    const text = await metrics.render();
    const L = 'db_name="mysql",db_role="primary",target="tls-maria"';
    expect(text).toContain(`db_connections_max{${L}} 37\n`);
    expect(text).toContain(`db_tls_certificate_expiry_timestamp_seconds{${L}} ${notAfter() / 1000}\n`);
    console.log(text.split("\n").filter((l) => /^db_(connections|tls)/.test(l)).join("\n"));
  });
});
