import "@alfred/db-health-driver-sqlite";
import { createDriver } from "@alfred/db-health-core";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_CONCURRENT_CYCLES, runDaemon } from "./daemon.js";
import { createLogger } from "./logger.js";

const warnings: Error[] = [];
const onWarning = (w: Error): void => void warnings.push(w);
afterEach(() => {
  process.off("warning", onWarning);
  warnings.length = 0;
});

describe("daemon", () => {
  it("probes many targets without a MaxListenersExceeded warning on its shutdown signal", async () => {
    process.on("warning", onWarning);
    const drivers = Array.from({ length: 25 }, (_, i) => createDriver({ dsn: "file::memory:", name: `t${i}`, interval: "1m" }));
    const stop = new AbortController();
    let cycles = 0;
    const log = createLogger({ write: (line: string) => void (line.includes('"status"') && cycles++) }, "info");
    const done = runDaemon({ drivers, listen: { host: "127.0.0.1", port: 0 }, legacyMetrics: true, version: "test", log, probeCacheMs: 1000, signal: stop.signal });
    while (cycles < drivers.length) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    await done;
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
  });
});

describe("daemon: one cycle per target, shared by the schedule and /probe", () => {
  /** a driver whose every cycle is counted and whose ping takes `pingMs` */
  const counting = (pingMs: number, interval: string) => {
    const counter = { cycles: 0 };
    const definition = {
      name: "counting",
      schemes: ["counting"],
      createAdapter: () => {
        let token: string | undefined;
        return {
          connect: async () => undefined,
          ping: async () => {
            counter.cycles++;
            await new Promise((r) => setTimeout(r, pingMs));
          },
          role: async () => ({ role: "primary" as const, readOnly: false }),
          write: async (t: string) => void (token = t),
          read: async () => token,
          close: async () => undefined,
        };
      },
    };
    const driver = createDriver({ dsn: "counting://h/db", name: "c", interval, maxRetries: 0 }, { definition });
    return { driver, counter };
  };
  const start = async (driver: ReturnType<typeof createDriver>, probeCacheMs: number) => {
    const stop = new AbortController();
    let base = "";
    const statuses: string[] = [];
    const log = createLogger(
      {
        write: (line: string) => {
          const m = /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(line);
          if (m) base = m[1]!;
          if (line.includes('"msg":"status"')) statuses.push(line);
        },
      },
      "info",
    );
    const done = runDaemon({ drivers: [driver], listen: { host: "127.0.0.1", port: 0 }, legacyMetrics: true, version: "test", log, probeCacheMs, signal: stop.signal });
    while (!base) await new Promise((r) => setTimeout(r, 5));
    return { base: () => base, statuses, stop: async () => (stop.abort(), await done) };
  };
  const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("a /probe during a scheduled cycle joins it", async () => {
    const { driver, counter } = counting(400, "1m");
    const d = await start(driver, 100);
    await sleepMs(100); // the first scheduled cycle is in its ping
    const answers = await Promise.all(Array.from({ length: 5 }, () => fetch(`${d.base()}/probe?target=c`).then((r) => r.status)));
    expect(answers).toEqual([200, 200, 200, 200, 200]);
    expect(counter.cycles).toBe(1);
    await d.stop();
  });

  it("the schedule counts its interval from the latest cycle, whoever started it, and logs a status change once", async () => {
    const { driver, counter } = counting(10, "1s");
    const d = await start(driver, 100);
    await sleepMs(600);
    expect(counter.cycles).toBe(1);
    // a /probe at 0.6 s (its cache is 100 ms) runs cycle 2; without sharing, the schedule would
    // run cycle 3 between 0.9 and 1.1 s; with it, not before 0.6 + 0.9 = 1.5 s
    expect((await fetch(`${d.base()}/probe?target=c`)).status).toBe(200);
    expect(counter.cycles).toBe(2);
    await sleepMs(1300 - 600);
    expect(counter.cycles).toBe(2);
    await sleepMs(600);
    expect(counter.cycles).toBe(3);
    expect(d.statuses.length).toBe(1); // starting -> up, logged once whichever cycle brought it
    await d.stop();
  });
});

describe("daemon: cycles at once", () => {
  it(`runs at most ${MAX_CONCURRENT_CYCLES} cycles at a time, however many targets are due together`, async () => {
    let now = 0;
    let peak = 0;
    let done = 0;
    const definition = {
      name: "gauge",
      schemes: ["gauge"],
      createAdapter: () => {
        let token: string | undefined;
        return {
          connect: async () => {
            now++;
            peak = Math.max(peak, now);
            await new Promise((r) => setTimeout(r, 20));
          },
          ping: async () => undefined,
          role: async () => ({ role: "primary" as const, readOnly: false }),
          write: async (t: string) => void (token = t),
          read: async () => token,
          close: async () => void now--,
        };
      },
    };
    const drivers = Array.from({ length: 100 }, (_, i) => createDriver({ dsn: "gauge://h/db", name: `g${i}`, interval: "1m", maxRetries: 0, connection: "per-cycle" }, { definition }));
    const stop = new AbortController();
    const log = createLogger({ write: (line: string) => void (line.includes('"msg":"status"') && done++) }, "info");
    const running = runDaemon({ drivers, listen: { host: "127.0.0.1", port: 0 }, legacyMetrics: true, version: "test", log, probeCacheMs: 1000, signal: stop.signal });
    while (done < drivers.length) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    await running;
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(MAX_CONCURRENT_CYCLES);
  });
});

describe("daemon: jitter", () => {
  it("waits 0.9 to 1.1 intervals between a target's cycles, never the same wait every time", async () => {
    const starts = new Map<string, number[]>();
    const definition = {
      name: "clock",
      schemes: ["clock"],
      createAdapter: (t: { config: { name: string } }) => {
        let token: string | undefined;
        return {
          connect: async () => undefined,
          ping: async () => void starts.get(t.config.name)!.push(performance.now()),
          role: async () => ({ role: "primary" as const, readOnly: false }),
          write: async (tok: string) => void (token = tok),
          read: async () => token,
          close: async () => undefined,
        };
      },
    };
    const drivers = ["a", "b"].map((name) => {
      starts.set(name, []);
      return createDriver({ dsn: "clock://h/db", name, interval: "200ms", maxRetries: 0 }, { definition });
    });
    const stop = new AbortController();
    const running = runDaemon({ drivers, listen: { host: "127.0.0.1", port: 0 }, legacyMetrics: true, version: "test", log: createLogger({ write: () => undefined }), probeCacheMs: 1000, signal: stop.signal });
    while ([...starts.values()].some((s) => s.length < 16)) await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    await running;
    for (const [name, s] of starts) {
      const gaps = s.slice(1).map((t, i) => t - s[i]!);
      // the wait counts from the cycle's start; timers add a millisecond or two
      for (const g of gaps) expect(g, `${name}: ${gaps.map(Math.round).join(" ")}`).toBeGreaterThanOrEqual(178);
      for (const g of gaps) expect(g, `${name}: ${gaps.map(Math.round).join(" ")}`).toBeLessThan(230);
      expect(Math.max(...gaps) - Math.min(...gaps), name).toBeGreaterThan(8);
    }
    // two targets started together draw their own waits instead of probing in lockstep
    const [a, b] = [starts.get("a")!, starts.get("b")!];
    const apart = a.slice(1, 16).map((t, i) => Math.abs(t - a[i]! - (b[i + 1]! - b[i]!)));
    expect(Math.max(...apart)).toBeGreaterThan(5);
  }, 15_000);
});
