import { X509Certificate } from "node:crypto";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Driver, type TargetOptions } from "@alfred/db-health-core";
import { testDrivers } from "@alfred/db-health-testkit";
import { startCluster, type PgCluster } from "@alfred/db-health-test-servers";
import { postgresDriver } from "./definition.js";

// The server's certificate replaced and reloaded (pg_reload_conf) under a probe that keeps its
// connection: when the new notAfter shows, and what an expired one does per sslmode.
const drivers = testDrivers(postgresDriver);
afterAll(() => drivers.closeAll());
// core replaces a TLS connection an hour old when its certificate ends within 30 days, a day old otherwise
const HOUR = 3_600_000;
const make = (dsn: string, over: Partial<TargetOptions> = {}): Driver => drivers({ dsn, maxRetries: 0, ...over });

describe("postgres: a server certificate replaced and reloaded", () => {
  let db: PgCluster;
  beforeAll(async () => {
    db = await startCluster({ ssl: { days: 100 } });
  }, 120_000);
  afterAll(async () => {
    await db?.destroy();
  });

  const notAfter = (): number => Date.parse(new X509Certificate(readFileSync(db.certFile!)).validTo);
  /** A new server certificate from the harness's CA and key request, valid for `days` (negative: expired), then a reload. */
  const reissue = async (days: number): Promise<void> => {
    const f = (name: string): string => join(dirname(db.certFile!), name);
    execFileSync("openssl", ["x509", "-req", "-in", f("server.csr"), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial", "-days", String(days), "-extfile", f("server.ext"), "-out", f("server.crt")], { stdio: "pipe", timeout: 20_000 });
    await db.query("SELECT pg_reload_conf()");
  };
  const verifying = (): string => db.dsn({ params: { sslmode: "verify-full", sslrootcert: db.caFile! } });
  /** Probes with a fresh connection until it presents `expected` (a reload is asynchronous; bounded). */
  const presented = async (expected: number): Promise<void> => {
    for (let i = 0; i < 50; i++) {
      if ((await make(db.dsn({ params: { sslmode: "require" } })).probe()).certificateExpiresAt === expected) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("the server never presented the new certificate");
  };

  it("a kept connection shows a certificate that ends sooner within a day (not after an hour: the one it saw was far from its end)", async () => {
    const d = make(verifying());
    const first = notAfter();
    expect((await d.probe()).certificateExpiresAt).toBe(first);
    await reissue(5);
    const shorter = notAfter();
    await presented(shorter);
    // the kept connection still has the handshake of the 100-day certificate
    expect((await d.probe()).certificateExpiresAt).toBe(first);
    const real = Date.now.bind(Date);
    const clock = vi.spyOn(Date, "now").mockImplementation(() => real() + 2 * HOUR);
    try {
      // an hour on: still far from the end of the certificate it saw, kept
      expect((await d.probe()).certificateExpiresAt).toBe(first);
      clock.mockImplementation(() => real() + 25 * HOUR);
      const r = await d.probe();
      expect(r.status, r.reason).toBe("up");
      expect(r.certificateExpiresAt).toBe(shorter);
    } finally {
      clock.mockRestore();
    }
  });

  it("an expired certificate: down where verified, its past notAfter without verification, none over sslmode=allow", async () => {
    await reissue(-1);
    const expired = notAfter();
    expect(expired).toBeLessThan(Date.now());
    await presented(expired);
    for (const params of [{ sslmode: "verify-full", sslrootcert: db.caFile! }, { sslmode: "verify-ca", sslrootcert: db.caFile! }]) {
      const r = await make(db.dsn({ params })).probe();
      expect(r.status, params.sslmode).toBe("down");
      expect(r.reason).toMatch(/certificate has expired/);
      expect("certificateExpiresAt" in r).toBe(false);
    }
    for (const sslmode of ["require", "prefer"]) {
      const r = await make(db.dsn({ params: { sslmode } })).probe();
      expect(r.status, sslmode).toBe("up");
      expect(r.certificateExpiresAt, sslmode).toBe(expired);
    }
    // allow tries without TLS first, and the server accepts that
    const allow = await make(db.dsn({ params: { sslmode: "allow" } })).probe();
    expect(allow.status).toBe("up");
    expect("certificateExpiresAt" in allow).toBe(false);
  });
});
