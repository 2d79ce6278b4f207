import { describe, expect, it, vi } from "vitest";
import { TLS_RECHECK_FAR_MS, TLS_RECHECK_MS } from "./capacity.js";
import { createDriver } from "./driver.js";
import { scriptedDefinition, type Script } from "../__fixtures__/scripted-driver.js";
import type { TargetOptions } from "../config/config.js";

const drv = (script: Script, over: Partial<TargetOptions> = {}) => {
  const definition = scriptedDefinition(script);
  const driver = createDriver({ dsn: "scripted://probe/x", maxRetries: 0, retryInterval: 1, ...over }, { definition });
  return { driver, state: definition.state };
};
const EXPIRY = Date.UTC(2027, 2, 9, 12, 0, 0);

describe("connection limit and certificate expiry in the probe cycle", () => {
  it("asks the limit right after the count and reports both, with the certificate's expiry", async () => {
    const { driver, state } = drv({ connectionLimit: async () => 37, certificateExpiry: () => EXPIRY });
    const r = await driver.probe();
    expect(r.status).toBe("up");
    expect(state.calls).toEqual(["connect", "ping", "role", "write", "read", "connections", "connectionLimit"]);
    expect([r.connections, r.connectionsMax, r.certificateExpiresAt]).toEqual([3, 37, EXPIRY]);
    expect(driver.metrics().db_connections_max).toBe(37);
    expect(driver.metrics().db_tls_certificate_expiry_timestamp_seconds).toBe(EXPIRY / 1000);
  });

  it("leaves both out for an adapter without them (SQLite, no TLS)", async () => {
    const r = await drv({}).driver.probe();
    expect(r.status).toBe("up");
    expect("connectionsMax" in r).toBe(false);
    expect("certificateExpiresAt" in r).toBe(false);
  });

  it("never degrades for the limit: a failing, wrong or missing answer only leaves it out", async () => {
    for (const connectionLimit of [async () => Promise.reject(new Error("permission denied")), async () => 0, async () => 2.5]) {
      const r = await drv({ connectionLimit }).driver.probe();
      expect(r.status).toBe("up");
      expect(r.problems).toEqual([]);
      expect(r.phases.connections?.ok).toBe(true);
      expect(r.connections).toBe(3);
      expect("connectionsMax" in r).toBe(false);
    }
  });

  it("asks no limit when the count failed: db_connections_max is absent whenever db_connections is", async () => {
    const { driver, state } = drv({ connections: async () => Promise.reject(new Error("canceling statement due to statement timeout")), connectionLimit: async () => 37 });
    const r = await driver.probe();
    expect(r.status).toBe("up");
    expect(r.phases.connections?.ok).toBe(false);
    expect(state.calls).not.toContain("connectionLimit");
    expect("connections" in r).toBe(false);
    expect("connectionsMax" in r).toBe(false);
    expect(driver.metrics().db_connections_max).toBeUndefined();
  });

  it("a certificateExpiry that throws or answers nonsense says nothing", async () => {
    for (const certificateExpiry of [() => { throw new Error("socket gone"); }, () => Number.NaN, () => "soon" as unknown as number]) {
      const r = await drv({ certificateExpiry }).driver.probe();
      expect(r.status).toBe("up");
      expect("certificateExpiresAt" in r).toBe(false);
    }
  });

  it("reports the certificate from the ping on: in a degraded cycle and after connect alone, never when down", async () => {
    const degraded = await drv({ certificateExpiry: () => EXPIRY, connectionLimit: async () => 37, write: async () => Promise.reject(new Error("disk full")) }).driver.probe();
    expect(degraded.status).toBe("degraded");
    expect(degraded.certificateExpiresAt).toBe(EXPIRY);
    // a failed write does not end the cycle: the connections step still ran
    expect(degraded.connectionsMax).toBe(37);

    const { driver } = drv({ certificateExpiry: () => EXPIRY });
    await driver.connect();
    expect(driver.metrics().db_tls_certificate_expiry_timestamp_seconds).toBe(EXPIRY / 1000);

    const down = await drv({ certificateExpiry: () => EXPIRY, ping: async () => Promise.reject(new Error("Connection terminated")) }).driver.probe();
    expect(down.status).toBe("down");
    expect("certificateExpiresAt" in down).toBe(false);
  });

  it("reads the certificate again each cycle (a server that renewed it)", async () => {
    let expiry = EXPIRY;
    const { driver } = drv({ certificateExpiry: () => expiry });
    expect((await driver.probe()).certificateExpiresAt).toBe(EXPIRY);
    expiry = EXPIRY + 90 * 86_400_000;
    expect((await driver.probe()).certificateExpiresAt).toBe(expiry);
  });

  it("replaces an hour-old connection whose certificate expires within 30 days, so a renewed one shows", async () => {
    const now = Date.now();
    // what the server presents, and what the connection's handshake got
    let presented = now + 10 * 86_400_000;
    let expiry = presented;
    const { driver, state } = drv({ connect: async () => void (expiry = presented), certificateExpiry: () => expiry });
    expect((await driver.probe()).certificateExpiresAt).toBe(presented);
    // within the hour: the same connection
    await driver.probe();
    expect(state.calls.filter((c) => c === "connect")).toHaveLength(1);
    const clock = vi.spyOn(Date, "now").mockImplementation(() => now + TLS_RECHECK_MS + 1000);
    try {
      presented = now + 90 * 86_400_000; // renewed on the server: the next handshake presents it
      const r = await driver.probe();
      expect(r.status).toBe("up");
      expect(state.calls.filter((c) => c === "connect")).toHaveLength(2);
      expect(state.calls.filter((c) => c === "close")).toHaveLength(1);
      expect(r.certificateExpiresAt).toBe(presented);
      // far from its end now: kept for a day
      clock.mockImplementation(() => now + 3 * TLS_RECHECK_MS);
      await driver.probe();
      expect(state.calls.filter((c) => c === "connect")).toHaveLength(2);
    } finally {
      clock.mockRestore();
    }
  });

  it("replaces a day-old TLS connection far from its end, so a certificate that ends sooner shows", async () => {
    const now = Date.now();
    let presented = now + 100 * 86_400_000;
    let expiry = presented;
    const { driver, state } = drv({ connect: async () => void (expiry = presented), certificateExpiry: () => expiry });
    expect((await driver.probe()).certificateExpiresAt).toBe(presented);
    const clock = vi.spyOn(Date, "now").mockImplementation(() => now + TLS_RECHECK_FAR_MS - 60_000);
    try {
      // the server now presents a certificate that ends in 5 days
      presented = now + 5 * 86_400_000;
      expect((await driver.probe()).certificateExpiresAt).toBe(now + 100 * 86_400_000);
      clock.mockImplementation(() => now + TLS_RECHECK_FAR_MS + 1000);
      const r = await driver.probe();
      expect(r.status).toBe("up");
      expect(state.calls.filter((c) => c === "connect")).toHaveLength(2);
      expect(r.certificateExpiresAt).toBe(presented);
    } finally {
      clock.mockRestore();
    }
  });

  it("keeps a connection without TLS, however old", async () => {
    const now = Date.now();
    const { driver, state } = drv({});
    await driver.probe();
    const clock = vi.spyOn(Date, "now").mockImplementation(() => now + 2 * TLS_RECHECK_FAR_MS);
    try {
      expect((await driver.probe()).status).toBe("up");
      expect(state.calls.filter((c) => c === "connect")).toHaveLength(1);
    } finally {
      clock.mockRestore();
    }
  });
});
