import "@alfred/db-health-driver-sqlite";
import { createDriver, type AdapterTarget, type DriverAdapter } from "@alfred/db-health-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_CONCURRENT_CYCLES, runDaemon, wakeAt, wakeTick } from "./daemon.js";
import { createLogger } from "./logger.js";

/** An adapter whose every phase succeeds at once (a primary that reads back what it wrote); override what the test is about. */
const adapterWith = (over: Partial<DriverAdapter> = {}): DriverAdapter => {
  let token: string | undefined;
  return {
    connect: async () => undefined,
    ping: async () => undefined,
    role: async () => ({ role: "primary" as const, readOnly: false }),
    write: async (t: string) => void (token = t),
    read: async () => token,
    close: async () => undefined,
    ...over,
  };
};

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
      createAdapter: () =>
        adapterWith({
          ping: async () => {
            counter.cycles++;
            await new Promise((r) => setTimeout(r, pingMs));
          },
        }),
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
      createAdapter: () =>
        adapterWith({
          connect: async () => {
            now++;
            peak = Math.max(peak, now);
            await new Promise((r) => setTimeout(r, 20));
          },
          close: async () => void now--,
        }),
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
  afterEach(() => vi.restoreAllMocks());

  it("waits between 0.9 and 1.1 intervals after a cycle's start, as the random draw says", async () => {
    // Draws alternate 0 and 1: waits of 180 and 220 ms for a 200 ms interval. Without jitter
    // every gap would be 200 ms; timers and a loaded machine only ever add a little to a gap.
    let draw = 0;
    vi.spyOn(Math, "random").mockImplementation(() => draw++ % 2);
    const starts: number[] = [];
    const definition = {
      name: "clock",
      schemes: ["clock"],
      createAdapter: () => adapterWith({ ping: async () => void starts.push(performance.now()) }),
    };
    const driver = createDriver({ dsn: "clock://h/db", name: "a", interval: "200ms", maxRetries: 0 }, { definition });
    const stop = new AbortController();
    const running = runDaemon({ drivers: [driver], listen: { host: "127.0.0.1", port: 0 }, legacyMetrics: true, version: "test", log: createLogger({ write: () => undefined }), probeCacheMs: 1000, signal: stop.signal });
    while (starts.length < 13) await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    await running;
    const gaps = starts.slice(1, 13).map((t, i) => t - starts[i]!);
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const short = median(gaps.filter((_, i) => i % 2 === 0));
    const long = median(gaps.filter((_, i) => i % 2 === 1));
    const shown = gaps.map(Math.round).join(" ");
    expect(short, shown).toBeGreaterThanOrEqual(178);
    expect(short, shown).toBeLessThan(200);
    expect(long, shown).toBeGreaterThanOrEqual(218);
    expect(long, shown).toBeLessThan(245);
  }, 15_000);
});

describe("daemon: wake-ups", () => {
  afterEach(() => vi.restoreAllMocks());

  it("starts the schedule's cycles on shared ticks: targets due within one tick wake the process once", async () => {
    // Each target's loop sleeps until its next cycle; record when each of those sleeps ends.
    const ends: number[] = [];
    const real = globalThis.setTimeout;
    vi.spyOn(globalThis, "setTimeout").mockImplementation(((fn: () => void, ms?: number, ...args: unknown[]) => {
      // The loop's sleeps are 0.9–1.1 intervals (1 s here); deadlines and the rest are other lengths.
      if (ms !== undefined && ms > 850 && ms < 1150) ends.push(performance.now() + ms);
      return Reflect.apply(real, globalThis, [fn, ms, ...args]) as ReturnType<typeof setTimeout>;
    }) as typeof setTimeout);
    let cycles = 0;
    const definition = { name: "tick", schemes: ["tick"], createAdapter: () => adapterWith({ ping: async () => void cycles++ }) };
    const drivers = Array.from({ length: 20 }, (_, i) => createDriver({ dsn: "tick://h/db", name: `t${i}`, interval: "1s", maxRetries: 0 }, { definition }));
    const stop = new AbortController();
    const running = runDaemon({ drivers, listen: { host: "127.0.0.1", port: 0 }, legacyMetrics: true, version: "test", log: createLogger({ write: () => undefined }), probeCacheMs: 1000, signal: stop.signal });
    while (ends.length < 20) await new Promise((r) => real(r, 20));
    stop.abort();
    await running;
    const tick = wakeTick(1000);
    expect(tick).toBe(50);
    // Every sleep ends 2 ms after a tick (the µs between the loop reading the clock and arming its
    // timer aside), so the 20 targets' jittered times (a 200 ms band) share at most 5 wake-ups.
    const past = (end: number): number => end - wakeAt(0, 1000);
    for (const end of ends) expect(Math.abs(past(end) - Math.round(past(end) / tick) * tick), String(end)).toBeLessThan(1);
    expect(new Set(ends.slice(0, 20).map((e) => Math.round(past(e) / tick))).size).toBeLessThanOrEqual(5);
    expect(cycles).toBeGreaterThanOrEqual(20);
  }, 15_000);

  it("keeps short intervals short: the tick is at most a twentieth of the interval, and at most 250 ms", () => {
    expect(wakeTick(100)).toBe(5);
    expect(wakeTick(15_000)).toBe(250);
    expect(wakeTick(24 * 3600_000)).toBe(250);
    // Each tick divides the longer ones: targets with other intervals share their boundaries.
    for (const interval of [100, 150, 250, 999, 1_000, 4_999, 5_000, 15_000, 3_600_000]) expect(250 % wakeTick(interval), String(interval)).toBe(0);
    // The wake-up is never before the cycle is due, and at most a tick (and the timer's slack) after.
    for (const [scheduled, interval] of [[15_130.4, 15_000], [15_250, 15_000], [1_000.01, 1_000], [7, 100]] as const) {
      expect(wakeAt(scheduled, interval)).toBeGreaterThan(scheduled);
      expect(wakeAt(scheduled, interval) - scheduled).toBeLessThanOrEqual(wakeTick(interval) + 2);
    }
  });
});

describe("daemon: readiness while stopping", () => {
  it("/readyz and /health answer 503 stopping from the stop signal until the server closes", async () => {
    // Closing the driver waits for the test: the daemon still serves while it closes.
    const closes: Array<() => void> = [];
    const definition = {
      name: "slow-close",
      schemes: ["slowclose"],
      createAdapter: () => adapterWith({ close: () => new Promise<void>((resolve) => closes.push(resolve)) }),
    };
    const driver = createDriver({ dsn: "slowclose://h/db", name: "s", interval: "1m", maxRetries: 0 }, { definition });
    const stop = new AbortController();
    let base = "";
    const log = createLogger({ write: (line: string) => void (base ||= /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(line)?.[1] ?? "") }, "info");
    const done = runDaemon({ drivers: [driver], listen: { host: "127.0.0.1", port: 0 }, legacyMetrics: true, version: "test", log, probeCacheMs: 1000, signal: stop.signal });
    const status = async (path: string): Promise<[number, string]> => {
      const res = await fetch(`${base}${path}`);
      return [res.status, await res.text()];
    };
    while (!base || (await status("/readyz"))[0] !== 200) await new Promise((r) => setTimeout(r, 10));

    stop.abort();
    while (closes.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(await status("/readyz")).toEqual([503, "not ready:\nstopping\n"]);
    const [code, body] = await status("/health");
    expect(code).toBe(503);
    expect(JSON.parse(body)).toMatchObject({ status: "fail", checks: { "service:readiness": [{ status: "fail", output: "stopping" }] } });
    for (;;) {
      closes.splice(0).forEach((resolve) => resolve());
      if (await Promise.race([done.then(() => true), new Promise((r) => setTimeout(() => r(false), 20))])) break;
    }
  });
});

describe("daemon: every target present from the first scrape", () => {
  it("serves db_up 0 and db_status unknown before the first cycle ends, without /metrics waiting on it; then the result", async () => {
    // The first cycle's connect waits for the test: a server that accepts and has not answered yet.
    let release = (): void => undefined;
    const connected = new Promise<void>((resolve) => (release = resolve));
    const definition = { name: "slow", schemes: ["slow"], createAdapter: () => adapterWith({ connect: () => connected }) };
    const drivers = [
      createDriver({ dsn: "slow://h/db", name: "a", interval: "1m", connectTimeout: "1m", maxRetries: 0 }, { definition }),
      createDriver({ dsn: "slow://h/db", name: "b", role: "replica", interval: "1m", connectTimeout: "1m", maxRetries: 0 }, { definition }),
    ];
    const stop = new AbortController();
    let base = "";
    const log = createLogger({ write: (line: string) => void (base ||= /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(line)?.[1] ?? "") }, "info");
    const done = runDaemon({ drivers, listen: { host: "127.0.0.1", port: 0 }, legacyMetrics: true, version: "test", log, probeCacheMs: 1000, signal: stop.signal });
    while (!base) await new Promise((r) => setTimeout(r, 5));

    const t0 = performance.now();
    const text = await (await fetch(`${base}/metrics`)).text();
    // Not a timing claim: the cycles wait a minute for their connect, the scrape does not.
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(text).toContain('db_up{db_name="slow",db_role="unknown",target="a"} 0');
    expect(text).toContain('db_status{db_name="slow",db_role="unknown",target="a",status="unknown"} 1');
    expect(text).toContain('db_status{db_name="slow",db_role="unknown",target="a",status="down"} 0');
    expect(text).toContain('db_up{db_name="slow",db_role="replica",target="b"} 0');
    expect(text).toContain('db_connection_errors_total{db_name="slow",db_role="unknown",target="a"} 0');
    expect(await (await fetch(`${base}/readyz`)).text()).toBe("not ready:\na: no probe cycle has finished yet\nb: no probe cycle has finished yet\n");
    const health = (await (await fetch(`${base}/health`)).json()) as { status: string; checks: Record<string, Array<{ output?: string }>> };
    expect(health.status).toBe("warn");
    expect(health.checks["a:connection"]?.[0]?.output).toBe("no probe cycle has finished yet");

    release();
    let after = "";
    for (let i = 0; i < 100 && !after.includes('target="a",status="unknown"} 0'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await (await fetch(`${base}/metrics`)).text();
    }
    expect(after).toContain('db_up{db_name="slow",db_role="primary",target="a"} 1');
    expect(after).toContain('db_status{db_name="slow",db_role="primary",target="a",status="unknown"} 0');
    // the declared series under the old role are gone, not left behind
    expect(after).not.toContain('db_role="unknown",target="a"');
    stop.abort();
    await done;
  });
});

describe("daemon: /probe within Prometheus' scrape timeout", () => {
  const never = (): Promise<never> => new Promise<never>(() => undefined);
  /** Targets whose server answers until `hang` is set, then accepts and never answers. */
  const hanging = (names: string[], settings: Record<string, unknown>) => {
    const server = { hang: false };
    const definition = {
      name: "hanging",
      schemes: ["hanging"],
      createAdapter: () => adapterWith({ connect: async () => (server.hang ? never() : undefined), ping: async () => (server.hang ? never() : undefined) }),
    };
    const drivers = names.map((name) => createDriver({ dsn: "hanging://h/db", name, ...settings }, { definition }));
    return { server, drivers };
  };
  const start = async (drivers: ReturnType<typeof createDriver>[]) => {
    const stop = new AbortController();
    let base = "";
    const log = createLogger({ write: (line: string) => void (base ||= /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(line)?.[1] ?? "") }, "info");
    const done = runDaemon({ drivers, listen: { host: "127.0.0.1", port: 0 }, legacyMetrics: true, version: "test", log, probeCacheMs: 100, timeoutOffsetMs: 500, signal: stop.signal });
    while (!base) await new Promise((r) => setTimeout(r, 5));
    return { base, stop: async () => (stop.abort(), await done) };
  };
  const scrape = async (url: string, timeoutSeconds: string): Promise<{ ms: number; body: string }> => {
    const t0 = performance.now();
    const body = await (await fetch(url, { headers: { "X-Prometheus-Scrape-Timeout-Seconds": timeoutSeconds } })).text();
    return { ms: performance.now() - t0, body };
  };
  const until = async (url: string, pattern: RegExp): Promise<string> => {
    let text = "";
    for (let i = 0; i < 200 && !pattern.test(text); i++) {
      await new Promise((r) => setTimeout(r, 50));
      text = await (await fetch(url)).text();
    }
    expect(text).toMatch(pattern);
    return text;
  };

  it("a cycle started for a scrape fits in its budget, retries included, and its result is recorded", async () => {
    // Without a budget this cycle takes 4 × 5 s pings/connects + 3 × 1 s pauses = 23 s.
    const { server, drivers } = hanging(["h"], { interval: "1h", connectTimeout: "5s", readTimeout: "5s", maxRetries: 3, retryInterval: "1s" });
    const d = await start(drivers);
    await until(`${d.base}/metrics`, /db_up\{db_name="hanging",db_role="primary",target="h"\} 1/);
    server.hang = true;
    await new Promise((r) => setTimeout(r, 150)); // past the /probe cache interval
    const r = await scrape(`${d.base}/probe?target=h`, "3");
    expect(r.ms).toBeLessThan(3000);
    // the cycle's own result, cut short by the budget (not an unfinished answer)
    expect(r.body).not.toContain("# unfinished");
    expect(r.body).toContain('db_up{db_name="hanging",db_role="primary",target="h"} 0');
    const ready = await (await fetch(`${d.base}/readyz`)).text();
    expect(ready).toBe("not ready:\nh: down: probe did not finish within the scrape timeout (2.5s: 3s less the 500ms offset)\n");
    await until(`${d.base}/metrics`, /db_up\{db_name="hanging",db_role="primary",target="h"\} 0/);
    await d.stop();
  }, 20_000);

  it("a scrape that would wait on a cycle already running is answered down at its budget, and the shared metrics keep the last result", async () => {
    const { server, drivers } = hanging(["h"], { interval: "500ms", connectTimeout: "5s", readTimeout: "5s", maxRetries: 0 });
    const d = await start(drivers);
    await until(`${d.base}/metrics`, /db_up\{db_name="hanging",db_role="primary",target="h"\} 1/);
    server.hang = true;
    await new Promise((r) => setTimeout(r, 800)); // the next scheduled cycle hangs in its ping
    const r = await scrape(`${d.base}/probe?target=h`, "1");
    expect(r.ms).toBeLessThan(3000);
    expect(r.body.split("\n")[0]).toBe("# unfinished: probe did not finish within the scrape timeout (500ms: 1s less the 500ms offset)");
    expect(r.body).toContain('db_up{db_name="hanging",db_role="primary",target="h"} 0');
    expect(r.body).toContain('db_status{db_name="hanging",db_role="primary",target="h",status="down"} 1');
    // not recorded: /metrics and /readyz still show the last finished cycle
    expect(await (await fetch(`${d.base}/metrics`)).text()).toContain('db_up{db_name="hanging",db_role="primary",target="h"} 1');
    expect((await fetch(`${d.base}/readyz`)).status).toBe(200);
    // the scheduled cycle ends on its own deadline and is recorded then
    await until(`${d.base}/readyz`, /h: down: ping timed out after 5s/);
    await d.stop();
  }, 20_000);

  it("the budget covers the wait for a free slot: a scrape of a queued target is answered at its budget, and its cycle later runs on its own deadlines", async () => {
    // 32 slots, 33 targets whose server never answers: the last one waits for a slot.
    const names = Array.from({ length: MAX_CONCURRENT_CYCLES + 1 }, (_, i) => `t${i}`);
    const { server, drivers } = hanging(names, { interval: "1h", connectTimeout: "1500ms", maxRetries: 0 });
    server.hang = true;
    const d = await start(drivers);
    await new Promise((r) => setTimeout(r, 100));
    const queued = names.at(-1)!;
    const r = await scrape(`${d.base}/probe?target=${queued}`, "1");
    expect(r.ms).toBeLessThan(1400); // before a slot frees at 1.5 s
    expect(r.body.split("\n")[0]).toBe("# unfinished: probe did not finish within the scrape timeout (500ms: 1s less the 500ms offset)");
    expect(r.body).toContain(`db_up{db_name="hanging",db_role="unknown",target="${queued}"} 0`);
    // its cycle was not cut short for a scrape that was already answered: it tried for its 1.5 s
    await until(`${d.base}/readyz`, new RegExp(`${queued}: down: connect (failed: )?.*timed out after 1\\.5s`));
    await d.stop();
  }, 20_000);
});

describe("daemon: a lost connection", () => {
  /** A server that drops each connection `dropAfterMs` after it was made (0: never), reported as the pg driver does. */
  const dropping = (dropAfterMs: number) => {
    const counter = { cycles: 0 };
    const definition = {
      name: "dropping",
      schemes: ["dropping"],
      createAdapter: (target: AdapterTarget) =>
        adapterWith({
          connect: async () => {
            if (dropAfterMs > 0) setTimeout(() => target.connectionLost?.("terminating connection due to administrator command (SQLSTATE 57P01)"), dropAfterMs);
          },
          ping: async () => void counter.cycles++,
        }),
    };
    return { definition, counter };
  };
  const start = async (driver: ReturnType<typeof createDriver>) => {
    const stop = new AbortController();
    const lines: string[] = [];
    const log = createLogger({ write: (line: string) => void lines.push(line) }, "info");
    const done = runDaemon({ drivers: [driver], listen: { host: "127.0.0.1", port: 0 }, legacyMetrics: true, version: "test", log, probeCacheMs: 100, signal: stop.signal });
    return { lines, stop: async () => (stop.abort(), await done) };
  };
  const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("runs the target's cycle at once instead of at its next interval, and logs the redacted reason", async () => {
    const { definition, counter } = dropping(0);
    let lose = (_reason: string): void => undefined;
    const def = { ...definition, createAdapter: (target: AdapterTarget) => ((lose = (reason) => target.connectionLost?.(reason)), definition.createAdapter(target)) };
    const driver = createDriver({ dsn: "dropping://h/db", name: "d", interval: "1h", maxRetries: 0 }, { definition: def });
    const d = await start(driver);
    while (counter.cycles < 1) await sleepMs(5);
    await sleepMs(50);
    lose("server closed the connection unexpectedly; postgres://app:hunter2@db/x");
    for (let i = 0; i < 100 && counter.cycles < 2; i++) await sleepMs(10);
    expect(counter.cycles).toBe(2); // not an hour later
    const line = d.lines.find((l) => l.includes('"msg":"connection lost"'))!;
    expect(JSON.parse(line)).toMatchObject({ level: "warn", target: "d", engine: "dropping", probe: "now" });
    expect(line).toContain("server closed the connection unexpectedly");
    expect(line).not.toContain("hunter2");
    await d.stop();
  });

  it("a /probe after a lost connection waits for the cycle the loss set off, not the cached result from before", async () => {
    const ended = { cycles: 0 };
    let lose = (_reason: string): void => undefined;
    const definition = {
      name: "dropping",
      schemes: ["dropping"],
      createAdapter: (target: AdapterTarget) => (
        (lose = (reason) => target.connectionLost?.(reason)),
        adapterWith({ ping: async () => (ended.cycles > 0 && (await sleepMs(200)), void ended.cycles++) })
      ),
    };
    const driver = createDriver({ dsn: "dropping://h/db", name: "d", interval: "1h", maxRetries: 0 }, { definition });
    const stop = new AbortController();
    let base = "";
    const log = createLogger({ write: (line: string) => void (base ||= /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(line)?.[1] ?? "") }, "info");
    // A cache of an hour: only the loss can make the cached result unfit.
    const done = runDaemon({ drivers: [driver], listen: { host: "127.0.0.1", port: 0 }, legacyMetrics: true, version: "test", log, probeCacheMs: 3_600_000, signal: stop.signal });
    while (!base || ended.cycles < 1) await sleepMs(5);
    await (await fetch(`${base}/probe?target=d`)).text();
    expect(ended.cycles).toBe(1); // from the cache
    lose("terminating connection due to administrator command (SQLSTATE 57P01)");
    await (await fetch(`${base}/probe?target=d`)).text();
    expect(ended.cycles).toBe(2); // answered once the reprobe's cycle (200 ms) had ended
    stop.abort();
    await done;
  });

  it("backs off when connections keep being lost: a flapping server gets no probe storm", async () => {
    // Every connection is dropped 5 ms after it is made. Without a back-off the daemon would
    // reconnect and probe about every 5 ms; with it, at 0, 1, 2 and 4 s after the first loss.
    const { definition, counter } = dropping(5);
    const driver = createDriver({ dsn: "dropping://h/db", name: "f", interval: "1h", maxRetries: 0 }, { definition });
    const d = await start(driver);
    await sleepMs(3500);
    await d.stop();
    // first cycle, then one per loss: at once, after 1 s, after 2 s (the next would be 4 s later)
    expect(counter.cycles).toBeGreaterThanOrEqual(3);
    expect(counter.cycles).toBeLessThanOrEqual(5);
    const probes = d.lines.filter((l) => l.includes('"msg":"connection lost"')).map((l) => (JSON.parse(l) as { probe: string }).probe);
    expect(probes.slice(0, 3)).toEqual(["now", "in 1s (connections lost again within a minute back off)", "in 2s (connections lost again within a minute back off)"]);
  });
});
