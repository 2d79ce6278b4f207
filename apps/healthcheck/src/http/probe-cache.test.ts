import { describe, expect, it } from "vitest";
import type { ProbeResult } from "@alfred/db-health-core";
import { result } from "./__fixtures__/http-fixtures.js";
import { createProbeCache } from "./probe-cache.js";

/** A probe whose cycles the test finishes by hand, on a clock the test moves. */
function harness(ttlMs: number) {
  let clock = 1_000_000;
  const calls: string[] = [];
  const waiting: Array<{ resolve(r: ProbeResult): void; reject(e: Error): void }> = [];
  const latest = new Map<string, ProbeResult>();
  const lost = new Map<string, number>();
  const cache = createProbeCache({
    ttlMs,
    now: () => clock,
    latest: (t) => latest.get(t),
    lostAt: (t) => lost.get(t),
    probe: (target) => {
      calls.push(target);
      return new Promise<ProbeResult>((resolve, reject) => waiting.push({ resolve, reject }));
    },
  });
  return {
    cache,
    calls,
    latest,
    lost,
    tick: (ms: number) => (clock += ms),
    now: () => clock,
    finish: (r: ProbeResult) => waiting.shift()?.resolve(r),
    fail: (e: Error) => waiting.shift()?.reject(e),
  };
}

const settle = () => new Promise((r) => setImmediate(r));

describe("createProbeCache", () => {
  it("shares one probe among concurrent callers and serves it until the ttl passes", async () => {
    const h = harness(1000);
    const all = Array.from({ length: 50 }, () => h.cache.get("a"));
    await settle();
    expect(h.calls).toEqual(["a"]);
    const r = result({ target: "a", startedAt: 0 });
    h.finish(r);
    expect(new Set(await Promise.all(all))).toEqual(new Set([r]));

    h.tick(999);
    expect(await h.cache.get("a")).toBe(r);
    expect(h.calls).toHaveLength(1);

    h.tick(1);
    const again = h.cache.get("a");
    await settle();
    expect(h.calls).toHaveLength(2);
    h.finish(result({ target: "a" }));
    await again;
  });

  it("keeps targets apart", async () => {
    const h = harness(1000);
    const a = h.cache.get("a");
    const b = h.cache.get("b");
    await settle();
    expect(h.calls).toEqual(["a", "b"]);
    h.finish(result({ target: "a" }));
    h.finish(result({ target: "b" }));
    expect((await a).target).toBe("a");
    expect((await b).target).toBe("b");
  });

  it("counts a fresh result of the daemon's own loop as cached, by the end of its cycle", async () => {
    const h = harness(1000);
    const own = result({ target: "a", startedAt: h.now() - 600, durationMs: 100 });
    h.latest.set("a", own);
    expect(await h.cache.get("a")).toBe(own);
    h.tick(500); // the cycle ended 1000 ms ago
    const p = h.cache.get("a");
    await settle();
    expect(h.calls).toEqual(["a"]);
    h.finish(result({ target: "a" }));
    await p;
  });

  it("serves no result from before a lost connection, however young: it joins the cycle the loss set off", async () => {
    const h = harness(15_000);
    const before = result({ target: "a", startedAt: h.now() - 100, durationMs: 50 });
    h.latest.set("a", before);
    expect(h.cache.fresh("a")).toBe(before);
    h.lost.set("a", h.now()); // the connection is lost 50 ms after that cycle ended
    h.tick(10);
    expect(h.cache.fresh("a")).toBeUndefined();
    const joined = [h.cache.get("a"), h.cache.get("a")];
    await settle();
    expect(h.calls).toEqual(["a"]); // one cycle for both (cycles.run joins the reprobe's own)
    const after = result({ target: "a", startedAt: h.now(), durationMs: 5 });
    h.finish(after);
    expect(await Promise.all(joined)).toEqual([after, after]);
    h.tick(1000);
    expect(h.cache.fresh("a")).toBe(after); // begun after the loss: served again
  });

  it("does not cache a failed probe, but shares it while in flight", async () => {
    const h = harness(1000);
    const both = [h.cache.get("a"), h.cache.get("a")];
    await settle();
    h.fail(new Error("boom"));
    for (const p of both) await expect(p).rejects.toThrow("boom");
    const retry = h.cache.get("a");
    await settle();
    expect(h.calls).toEqual(["a", "a"]);
    h.finish(result({ target: "a" }));
    await retry;
  });

  it("with ttl 0 probes every time but still single-flight", async () => {
    const h = harness(0);
    const p = [h.cache.get("a"), h.cache.get("a")];
    await settle();
    h.finish(result({ target: "a" }));
    await Promise.all(p);
    const q = h.cache.get("a");
    await settle();
    expect(h.calls).toHaveLength(2);
    h.finish(result({ target: "a" }));
    await q;
  });

  it("fresh() tells whether get() would answer at once; forget() drops the result, and a cycle in flight does not put it back", async () => {
    const h = harness(1000);
    expect(h.cache.fresh("a")).toBeUndefined();
    const first = h.cache.get("a");
    await settle();
    h.finish(result({ target: "a" }));
    const r = await first;
    expect(h.cache.fresh("a")).toBe(r);
    h.cache.forget("a");
    expect(h.cache.fresh("a")).toBeUndefined();
    const again = h.cache.get("a");
    await settle();
    h.cache.forget("a"); // evicted while its cycle runs
    h.finish(result({ target: "a" }));
    await again;
    expect(h.cache.fresh("a")).toBeUndefined();
    expect(h.calls).toEqual(["a", "a"]);
  });
});
