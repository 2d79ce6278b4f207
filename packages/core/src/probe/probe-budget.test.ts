import { describe, expect, it } from "vitest";
import { createDriver } from "./driver.js";
import { scriptedDefinition, type Script } from "../__fixtures__/scripted-driver.js";
import type { TargetOptions } from "../config/config.js";

// A probe for a Prometheus scrape must answer within the scrape timeout, whatever the database
// does. The scripted adapter ignores its signals, as a stuck client library would.
const never = <T>(): Promise<T> => new Promise<T>(() => undefined);
const wait = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));
const drv = (script: Script, over: Partial<TargetOptions> = {}) => {
  const definition = scriptedDefinition(script);
  const driver = createDriver({ dsn: "scripted://probe/x", maxRetries: 0, retryInterval: 1, ...over }, { definition });
  return { driver, state: definition.state };
};
const SCRAPE = "probe did not finish within the scrape timeout (0.5s)";
const timed = async <T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const t0 = performance.now();
  const value = await work();
  return { value, ms: performance.now() - t0 };
};

describe("a probe with a time budget", () => {
  it("fits a hung connect and its retries into the budget: down, with the budget as the reason", async () => {
    // Without a budget: 4 × 1 s connects + 3 × 200 ms pauses = 4.6 s.
    const { driver, state } = drv({ connect: never }, { connectTimeout: 1000, maxRetries: 3, retryInterval: 200 });
    const { value: r, ms } = await timed(() => driver.probe(undefined, { budgetMs: 500, budgetReason: SCRAPE }));
    expect(r.status).toBe("down");
    expect(r.reason).toBe(SCRAPE);
    expect(r.attempts).toBe(1);
    expect(r.phases.connect).toEqual({ ok: false, ms: expect.any(Number), error: expect.stringMatching(/^connect timed out after \d+ms$/) });
    expect(r.unfinished).toBeUndefined();
    // the deadline stayed hard: the adapter never settled, core destroyed the connection
    expect(state.destroyed).toBeGreaterThanOrEqual(1);
    expect(ms).toBeLessThan(1000);
    expect(driver.lastResult()).toBe(r);
  });

  it("makes a retry only when time is left for it to be useful", async () => {
    const refused = () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:1"));
    const over = { maxRetries: 3, retryInterval: 200 };
    // 0 ms: fails; 450 − 200 leaves 250 ms: retry. 200 ms: fails; 250 − 200 leaves 50 ms: no retry.
    const budgeted = await drv({ connect: refused }, over).driver.probe(undefined, { budgetMs: 450 });
    expect(budgeted.status).toBe("down");
    expect(budgeted.attempts).toBe(2);
    // the server's own answer is the reason: the budget cut nothing short
    expect(budgeted.reason).toBe("connect failed: connect ECONNREFUSED 127.0.0.1:1");
    const unbudgeted = await drv({ connect: refused }, over).driver.probe();
    expect(unbudgeted.attempts).toBe(4);
  });

  it("cuts a later phase short: degraded, with the budget as the reason, and starts nothing after it", async () => {
    const { driver, state } = drv({ role: never }, { readTimeout: 5000 });
    const { value: r, ms } = await timed(() => driver.probe(undefined, { budgetMs: 300 }));
    expect(r.status).toBe("degraded");
    expect(r.reason).toBe("probe did not finish within its time budget (300ms)");
    expect(r.phases.ping?.ok).toBe(true);
    expect(r.phases.role?.ok).toBe(false);
    expect(state.calls).toEqual(["connect", "ping", "role"]);
    expect(r.unfinished).toBeUndefined();
    expect(ms).toBeLessThan(1000);
  });

  it("shortens a phase's deadline to the time left and keeps what the cycle found", async () => {
    const { driver, state } = drv({ read: never, role: async () => ({ role: "replica", readOnly: true, lagSeconds: 0.5 }) }, { readTimeout: 5000 });
    const r = await driver.probe(undefined, { budgetMs: 250 });
    expect(r.status).toBe("degraded");
    expect(r.problems[0]).toBe("probe did not finish within its time budget (250ms)");
    expect(r.role).toBe("replica");
    expect(r.lagSeconds).toBe(0.5);
    expect(r.writeSkipped).toBe("node is a replica");
    expect(r.phases.read?.error).toMatch(/^read timed out after \d+ms$/);
    expect(state.calls).not.toContain("connections");
  });

  it("starts no phase when no time is left", async () => {
    for (const budgetMs of [0, -5, Number.NaN]) {
      const { driver, state } = drv({});
      const r = await driver.probe(undefined, { budgetMs });
      expect(r.status).toBe("down");
      expect(r.reason).toBe("probe did not finish within its time budget (0s)");
      expect(r.attempts).toBe(0);
      expect(state.calls).toEqual([]);
    }
  });

  it("changes nothing for a cycle that fits; Infinity, or more than a timer can wait, is no budget", async () => {
    const { driver, state } = drv({ ping: () => wait(20) });
    for (const options of [{ budgetMs: 10_000 }, { budgetMs: Infinity }, { budgetMs: 2 ** 31 }, {}]) {
      // once starting the cycle, once joining one
      for (const r of [await driver.probe(undefined, options), (await Promise.all([driver.probe(), driver.probe(undefined, options)]))[1]]) {
        expect(r.status).toBe("up");
        expect(r.problems).toEqual([]);
      }
    }
    expect(state.calls.filter((c) => c === "read")).toHaveLength(8);
  });

  it("answers a caller that joins a running cycle within its own budget; the cycle goes on and is recorded", async () => {
    let slow = false;
    const { driver, state } = drv({ ping: () => (slow ? wait(600) : Promise.resolve()) });
    const first = await driver.probe();
    expect(first.status).toBe("up");
    slow = true;
    const scheduled = driver.probe(); // the daemon's cycle, without a budget
    const { value: scrape, ms } = await timed(() => driver.probe(undefined, { budgetMs: 200, budgetReason: SCRAPE }));
    expect(ms).toBeLessThan(550);
    expect(scrape).toMatchObject({ status: "down", reason: SCRAPE, problems: [SCRAPE], attempts: 0, phases: {}, unfinished: true });
    // the synthetic answer is nobody's state
    expect(driver.status()).toBe("up");
    expect(driver.lastResult()).toBe(first);
    const real = await scheduled;
    expect(real.status).toBe("up");
    expect(real.unfinished).toBeUndefined();
    expect(driver.lastResult()).toBe(real);
    expect(state.calls.filter((c) => c === "ping")).toHaveLength(2); // single flight: one cycle for both
  });

  it("gives a joining caller the shared result when it arrives within its budget", async () => {
    const { driver } = drv({ ping: () => wait(100) });
    const scheduled = driver.probe();
    const scrape = await driver.probe(undefined, { budgetMs: 2000 });
    expect(scrape).toBe(await scheduled);
    expect(scrape.status).toBe("up");
  });

  it("answers within the budget while queued behind another operation, and then probes on the configured deadlines", async () => {
    let slow = true;
    const { driver } = drv({ ping: () => (slow ? wait(400) : Promise.resolve()) });
    const check = driver.checkReadWrite(); // holds the target's queue for 400 ms
    const { value: scrape, ms } = await timed(() => driver.probe(undefined, { budgetMs: 150 }));
    slow = false;
    expect(ms).toBeLessThan(380);
    expect(scrape.unfinished).toBe(true);
    await check;
    // the cycle queued for that scrape still ran, in full, once the queue was free
    await wait(50);
    expect(driver.lastResult()?.status).toBe("up");
    expect(driver.lastResult()?.problems).toEqual([]);
  });

  it("with connection: per-cycle, answers before the server's goodbye", async () => {
    const definition = scriptedDefinition();
    const base = definition.createAdapter;
    let closes = 0;
    definition.createAdapter = (t) => ({ ...base(t), close: () => wait(300).then(() => void closes++) });
    const driver = createDriver({ dsn: "scripted://x", maxRetries: 0, connection: "per-cycle" }, { definition });
    const { value: r, ms } = await timed(() => driver.probe(undefined, { budgetMs: 200 }));
    expect(r.status).toBe("up");
    expect(r.unfinished).toBeUndefined();
    expect(ms).toBeLessThan(290);
    // the next operation still waits for that close: never two connections at once
    await driver.probe();
    expect(closes).toBe(1);
  });
});
