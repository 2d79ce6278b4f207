import { describe, expect, it } from "vitest";
import { LostConnectionReprobe, REPROBE_BACKOFF } from "./lost-connection-reprobe.js";

describe("LostConnectionReprobe", () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, at: (ms: number) => (t = 1_000_000 + ms) };
  };

  it("probes at once after a loss; repeats within a minute wait 1 s, 2 s, 4 s… up to the interval", () => {
    const c = clock();
    const r = new LostConnectionReprobe(15_000, c.now);
    const delays = [0, 100, 1200, 3500, 8000, 16_500, 33_000, 60_000].map((t) => (c.at(t), r.report()));
    expect(delays).toEqual([0, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
  });

  it("starts over once a loss comes more than a minute after the previous one", () => {
    const c = clock();
    const r = new LostConnectionReprobe(15_000, c.now);
    r.report();
    c.at(10_000);
    expect(r.report()).toBe(1000);
    c.at(10_000 + REPROBE_BACKOFF.windowMs + 1);
    expect(r.report()).toBe(0);
  });

  it("is due at its delay until a cycle starts after the loss", () => {
    const c = clock();
    const r = new LostConnectionReprobe(15_000, c.now);
    expect(r.dueAt(0)).toBe(Infinity);
    c.at(500);
    r.report();
    expect(r.dueAt(c.now() - 1)).toBe(c.now()); // the last cycle started before the loss
    expect(r.dueAt(c.now())).toBe(Infinity); // one started since: settled
    c.at(600);
    expect(r.report()).toBe(1000);
    expect(r.dueAt(0)).toBe(c.now() + 1000);
  });

  it("a report wakes the sleeping loop; so does the stop signal", async () => {
    const r = new LostConnectionReprobe(60_000);
    const stop = new AbortController();
    const t0 = performance.now();
    const slept = r.sleep(60_000, stop.signal);
    setTimeout(() => r.report(), 20);
    await slept;
    const woken = r.sleep(60_000, stop.signal);
    setTimeout(() => stop.abort(), 20);
    await woken;
    expect(performance.now() - t0).toBeLessThan(30_000);
  });
});
