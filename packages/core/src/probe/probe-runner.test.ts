import { describe, expect, it } from "vitest";
import { createDriver } from "./driver.js";
import { DbHealthError } from "../contract/errors.js";
import { scriptedDefinition, type Script } from "../__fixtures__/scripted-driver.js";
import type { TargetOptions } from "../config/config.js";

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);
const drv = (script: Script, over: Partial<TargetOptions> = {}) => {
  const definition = scriptedDefinition(script);
  const driver = createDriver({ dsn: "scripted://probe/x", maxRetries: 0, retryInterval: 1, ...over }, { definition });
  return { driver, state: definition.state };
};

describe("probe cycle", () => {
  it("runs connect → ping → role → write → read → connections and ends up", async () => {
    const { driver, state } = drv({});
    const r = await driver.probe();
    expect(r.status).toBe("up");
    expect(state.calls).toEqual(["connect", "ping", "role", "write", "read", "connections"]);
    expect(r.connections).toBe(3);
    expect(r.role).toBe("primary");
    for (const p of ["connect", "ping", "role", "write", "read", "connections"] as const) {
      expect(r.phases[p]?.ok).toBe(true);
      expect(r.phases[p]?.ms).toBeGreaterThan(0);
    }
    // second cycle reuses the connection
    await driver.probe();
    expect(state.calls.filter((c) => c === "connect")).toHaveLength(1);
  });

  it("writes a fresh token every cycle and verifies it on read", async () => {
    const tokens: string[] = [];
    const { driver } = drv({ write: async (t) => void tokens.push(t) });
    await driver.probe();
    await driver.probe();
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).not.toBe(tokens[1]);
    const lying = drv({ read: async () => "stale-token" }).driver;
    const r = await lying.probe();
    expect(r.status).toBe("degraded");
    expect(r.reason).toBe("read-back returned a different token than was written");
    expect(r.phases.read?.ok).toBe(false);
  });

  it("is down after connect fails on every attempt, counting each failure", async () => {
    const { driver, state } = drv({ connect: async () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:1")) }, { maxRetries: 2 });
    const r = await driver.probe();
    expect(r.status).toBe("down");
    expect(r.attempts).toBe(3);
    expect(r.reason).toMatch(/ECONNREFUSED/);
    expect(state.calls).toEqual(["connect", "connect", "connect"]);
    expect(driver.metrics().db_connection_errors_total).toBe(3);
    expect(driver.metrics().db_up).toBe(0);
  });

  it("recovers within one cycle when a retry succeeds (server restarted)", async () => {
    let pings = 0;
    const { driver, state } = drv({ ping: async () => (++pings === 1 ? Promise.reject(new Error("Connection terminated")) : undefined) }, { maxRetries: 1 });
    const r = await driver.probe();
    expect(r.status).toBe("up");
    expect(r.attempts).toBe(2);
    expect(state.destroyed).toBe(1);
    expect(state.calls.slice(0, 4)).toEqual(["connect", "ping", "connect", "ping"]);
  });

  it("waits retryInterval between attempts", async () => {
    const { driver } = drv({ connect: () => Promise.reject(new Error("refused")) }, { maxRetries: 2, retryInterval: 100 });
    const r = await driver.probe();
    expect(r.durationMs).toBeGreaterThanOrEqual(195);
  });

  it("ends a hung ping at readTimeout and destroys the connection", async () => {
    const { driver, state } = drv({ ping: never }, { readTimeout: 200 });
    const t0 = performance.now();
    const r = await driver.probe();
    const elapsed = performance.now() - t0;
    expect(r.status).toBe("down");
    expect(r.reason).toBe("ping timed out after 200ms");
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(600);
    expect(state.destroyed).toBeGreaterThanOrEqual(1);
  });

  it("ends a hung write at writeTimeout as degraded, then reconnects next cycle", async () => {
    let hang = true;
    const { driver, state } = drv({ write: () => (hang ? never() : Promise.resolve()) }, { writeTimeout: 150 });
    const r = await driver.probe();
    expect(r.status).toBe("degraded");
    expect(r.reason).toBe("write check failed: write timed out after 150ms");
    expect(r.phases.read).toBeUndefined();
    hang = false;
    const r2 = await driver.probe();
    expect(r2.status).toBe("up");
    expect(state.calls.filter((c) => c === "connect")).toHaveLength(2);
  });

  it("skips the write on a replica, reads, reports lag", async () => {
    const { driver, state } = drv({ role: async () => ({ role: "replica", readOnly: true, lagSeconds: 1.5 }) });
    const r = await driver.probe();
    expect(r.status).toBe("up");
    expect(r.writeSkipped).toBe("node is a replica");
    expect(state.calls).not.toContain("write");
    expect(state.calls).toContain("read");
    expect(r.lagSeconds).toBe(1.5);
    expect(r.role).toBe("replica");
  });

  it("never writes when the role check failed (the node might be a replica)", async () => {
    const { driver, state } = drv({ role: () => Promise.reject(new Error("permission denied for table _health_check")) });
    const r = await driver.probe();
    expect(r.status).toBe("degraded");
    expect(r.writeSkipped).toBe("role unknown (the role check failed)");
    expect(state.calls).not.toContain("write");
    expect(r).not.toHaveProperty("detectedRole");
  });

  it("reconnects up front when the adapter knows its connection is gone", async () => {
    let alive = true;
    const definition = scriptedDefinition();
    const base = definition.createAdapter;
    definition.createAdapter = (t) => ({ ...base(t), connected: () => alive });
    const driver = createDriver({ dsn: "scripted://x", maxRetries: 0 }, { definition });
    await driver.probe();
    alive = false;
    const r = await driver.probe();
    expect(r.status).toBe("up");
    expect(r.attempts).toBe(1);
    expect(definition.state.calls.filter((c) => c === "connect")).toHaveLength(2);
  });

  it("degrades when lag passes maxReplicationLag", async () => {
    const { driver } = drv({ role: async () => ({ role: "replica", readOnly: true, lagSeconds: 12 }) }, { maxReplicationLag: "10s" });
    const r = await driver.probe();
    expect(r.status).toBe("degraded");
    expect(r.reason).toBe("replication lag 12.0s is over the 10s limit");
  });

  it("degrades a read-only primary and does not write to it", async () => {
    const { driver, state } = drv({ role: async () => ({ role: "primary", readOnly: true, detail: "default_transaction_read_only=on" }) });
    const r = await driver.probe();
    expect(r.status).toBe("degraded");
    expect(r.reason).toBe("primary is read-only (default_transaction_read_only=on)");
    expect(state.calls).not.toContain("write");
  });

  it("treats a read-only node of unknown role as a read-only check, not degraded", async () => {
    const { driver } = drv({ role: async () => ({ role: "unknown", readOnly: true, detail: "opened with mode=ro" }) });
    const r = await driver.probe();
    expect(r.status).toBe("up");
    expect(r.writeSkipped).toBe("node is read-only (opened with mode=ro)");
  });

  it("degrades when the configured role does not match the node", async () => {
    const { driver } = drv({ role: async () => ({ role: "replica", readOnly: true }) }, { role: "primary" });
    const r = await driver.probe();
    expect(r.status).toBe("degraded");
    expect(r.problems).toContain("configured as primary but the node is a replica");
    // The label keeps the configured role; what the node said is detectedRole (cluster views count it).
    expect(r.role).toBe("primary");
    expect(r.detectedRole).toBe("replica");
  });

  it("honours writeCheck never and always", async () => {
    const never_ = drv({}, { writeCheck: "never" });
    const r1 = await never_.driver.probe();
    expect(r1.status).toBe("up");
    expect(never_.state.calls).toEqual(["connect", "ping", "role", "read", "connections"]);
    const always = drv({ role: async () => ({ role: "replica", readOnly: true }) }, { writeCheck: "always" });
    await always.driver.probe();
    expect(always.state.calls).toContain("write");
  });

  it("degrades on a latency threshold", async () => {
    const { driver } = drv({ read: async (s) => new Promise((res) => setTimeout(() => res(s), 60)) }, { thresholds: { readLatency: "20ms" } });
    const r = await driver.probe();
    expect(r.status).toBe("degraded");
    expect(r.reason).toMatch(/^read latency \d+\.\dms is over the 20ms threshold$/);
  });

  it("reports a permission error on write as degraded with the reason", async () => {
    const { driver } = drv({ write: () => Promise.reject(new DbHealthError("permission", "permission denied for table _health_check")) });
    const r = await driver.probe();
    expect(r.status).toBe("degraded");
    expect(r.reason).toBe("write check failed: permission denied for table _health_check");
  });

  it("adds adapter warnings as problems", async () => {
    const { driver } = drv({ role: async () => ({ role: "primary", readOnly: false, warnings: ["PRAGMA quick_check: row 3 missing from index"] }) });
    const r = await driver.probe();
    expect(r.status).toBe("degraded");
    expect(r.reason).toBe("PRAGMA quick_check: row 3 missing from index");
  });

  it("redacts the DSN password from client errors", async () => {
    const definition = scriptedDefinition({ connect: () => Promise.reject(new Error("could not connect to scripted://app:hunter2pass@db/x (password hunter2pass)")) });
    const driver = createDriver({ dsn: "scripted://app:hunter2pass@db/x", maxRetries: 0 }, { definition });
    const r = await driver.probe();
    expect(JSON.stringify(r)).not.toContain("hunter2pass");
    expect(r.reason).toContain("app");
  });

  it("runs at most one cycle at a time per target (single-flight)", async () => {
    const { driver, state } = drv({ ping: () => new Promise((res) => setTimeout(res, 30)) });
    const [a, b, c] = await Promise.all([driver.probe(), driver.probe(), driver.probe()]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(state.calls.filter((x) => x === "ping")).toHaveLength(1);
  });

  it("exposes the original interface: connect, ping, checkReadWrite, status, metrics", async () => {
    const { driver } = drv({});
    expect(driver.status()).toBe("down");
    await driver.connect();
    await driver.ping();
    expect(driver.status()).toBe("up");
    await driver.checkReadWrite();
    const m = driver.metrics();
    expect(m.db_read_latency_ms).toBeGreaterThan(0);
    expect(m.db_read_latency_ms! % 1).not.toBe(0); // floats, never truncated to whole ms
    const failing = drv({ write: () => Promise.reject(new Error("disk full")) }).driver;
    await expect(failing.checkReadWrite()).rejects.toThrow("write check failed: disk full");
    expect(failing.status()).toBe("degraded");
  });

  it("refuses to reconnect after close(), at once and without counting errors", async () => {
    const { driver, state } = drv({}, { maxRetries: 3, retryInterval: 500 });
    await driver.probe();
    await driver.close();
    const t0 = performance.now();
    const r = await driver.probe();
    expect(performance.now() - t0).toBeLessThan(100);
    expect(r.status).toBe("down");
    expect(r.reason).toBe("driver is closed");
    expect(r.attempts).toBe(0);
    expect(driver.metrics().db_connection_errors_total).toBe(0);
    expect(state.calls.filter((c) => c === "connect")).toHaveLength(1);
  });

  it("never runs two operations on one target at once, whichever methods callers mix", async () => {
    let open = 0;
    let maxOpen = 0;
    let busy = 0;
    let maxBusy = 0;
    const slow = async (): Promise<void> => {
      maxBusy = Math.max(maxBusy, ++busy);
      await new Promise((res) => setTimeout(res, 5));
      busy--;
    };
    const definition = scriptedDefinition({
      connect: async () => {
        await slow();
        maxOpen = Math.max(maxOpen, ++open);
      },
      ping: slow,
      write: slow,
    });
    const driver = createDriver({ dsn: "scripted://x", maxRetries: 0 }, { definition });
    await Promise.all([driver.ping(), driver.connect(), driver.probe(), driver.checkReadWrite(), driver.ping(), driver.probe()]);
    expect(maxBusy).toBe(1);
    expect(maxOpen).toBe(1);
    await driver.close();
    expect(definition.state.calls.at(-1)).toBe("close");
  });

  it("counts a phase that blocks the event loop past its deadline as a timeout", async () => {
    const { driver, state } = drv({
      ping: async () => {
        const end = performance.now() + 150;
        while (performance.now() < end); // a synchronous client holding the thread
      },
    }, { readTimeout: 50 });
    const r = await driver.probe();
    expect(r.status).toBe("down");
    expect(r.reason).toBe("ping timed out after 50ms");
    expect(state.destroyed).toBeGreaterThanOrEqual(1);
  });

  it("closes a connection that arrives after the connect deadline", async () => {
    const definition = scriptedDefinition({ connect: () => new Promise((res) => setTimeout(res, 120)) });
    const driver = createDriver({ dsn: "scripted://x", maxRetries: 0, connectTimeout: 40 }, { definition });
    const r = await driver.probe();
    expect(r.reason).toBe("connect timed out after 40ms");
    const destroyedAtDeadline = definition.state.destroyed;
    await new Promise((res) => setTimeout(res, 150));
    expect(definition.state.destroyed).toBe(destroyedAtDeadline + 1);
  });

  it("keeps the failing phase's error kind and cause when a Driver method throws", async () => {
    const denied = new DbHealthError("permission", "permission denied for table _health_check");
    const { driver } = drv({ write: () => Promise.reject(denied) });
    const err = (await driver.checkReadWrite().catch((e: unknown) => e)) as DbHealthError;
    expect(err.kind).toBe("permission");
    expect(err.message).toBe("scripted: write check failed: permission denied for table _health_check");
    const down = drv({ connect: () => Promise.reject(new DbHealthError("auth", "password authentication failed for user app")) }).driver;
    expect(((await down.connect().catch((e: unknown) => e)) as DbHealthError).kind).toBe("auth");
  });

  it("redacts and folds adapter detail and warnings onto one line", async () => {
    const definition = scriptedDefinition({
      role: async () => ({ role: "primary", readOnly: true, detail: "set by postgres://app:hunter2pass@db/x", warnings: ["row 3 missing\nrow 4 missing"] }),
    });
    const driver = createDriver({ dsn: "scripted://app:hunter2pass@db/x", maxRetries: 0 }, { definition });
    const r = await driver.probe();
    expect(JSON.stringify(r)).not.toContain("hunter2pass");
    expect(r.problems).toContain("row 3 missing; row 4 missing");
  });

  it("wraps an adapter factory's error as a redacted config error naming the target", () => {
    const definition = { ...scriptedDefinition(), createAdapter: () => { throw new Error("bad option for scripted://app:hunter2pass@db/x"); } };
    expect(() => createDriver({ dsn: "scripted://app:hunter2pass@db/x", name: "orders" }, { definition })).toThrow(
      /^orders: scripted driver rejected the target: bad option for scripted:\/\/app:\*\*\*@db\/x$/,
    );
  });
});

describe("read-back when probers share a probe id", () => {
  const others = (n: number): string => Array.from({ length: n }, (_, i) => `other${i}xy`.slice(0, 8)).join(" ");

  it("passes when the row holds this prober's token behind others' (the row keeps the latest tokens)", async () => {
    const { driver, state } = drv({ read: async (stored) => `${others(3)} ${stored}` });
    const r = await driver.probe();
    expect(r.status, r.reason).toBe("up");
    expect(state.calls.filter((c) => c === "write")).toHaveLength(1);
  });

  it("writes and reads once more when others' tokens crowded this prober's out of the row, and passes", async () => {
    let reads = 0;
    const { driver, state } = drv({ read: async (stored) => (++reads === 1 ? others(7) : `${stored} ${others(6)}`) });
    const r = await driver.probe();
    expect(r.status, r.reason).toBe("up");
    expect(state.calls.filter((c) => c === "write")).toHaveLength(2);
  });

  it("fails, saying why, when it is crowded out twice", async () => {
    const { driver } = drv({ read: async () => others(7) }, { probeId: "t" });
    const r = await driver.probe();
    expect(r.status).toBe("degraded");
    expect(r.reason).toMatch(/^read-back returned a different token than was written, twice: the row held only other probers' latest tokens \(probers sharing probe id "t" write faster/);
  });

  it("does not retry a read-back that is simply wrong (a stale or lost write)", async () => {
    const { driver, state } = drv({ read: async () => "stale123" });
    const r = await driver.probe();
    expect(r.status).toBe("degraded");
    expect(r.reason).toBe("read-back returned a different token than was written");
    expect(state.calls.filter((c) => c === "write")).toHaveLength(1);
  });
});
