import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { acceptsGzip, createMetricsCache } from "./metrics-cache.js";

/** A render that counts its calls and returns "render N", resolved when `release()` is called. */
function counter(): { render: () => Promise<string>; calls: () => number; release: () => void } {
  let calls = 0;
  let open: (() => void) | undefined;
  return {
    calls: () => calls,
    release: () => open?.(),
    render: () => {
      const n = ++calls;
      return new Promise((resolve) => (open = () => resolve(`render ${n}\n`)));
    },
  };
}

describe("metrics cache", () => {
  it("concurrent scrapes share one render", async () => {
    const r = counter();
    const cache = createMetricsCache({ render: r.render, now: () => 0 });
    const scrapes = Promise.all(Array.from({ length: 20 }, () => cache.get()));
    r.release();
    const bodies = await scrapes;
    expect(r.calls()).toBe(1);
    expect(new Set(bodies.map((b) => b.identity.toString())).size).toBe(1);
  });

  it("serves the rendered body within maxAgeMs and renders again after it", async () => {
    let t = 0;
    const r = counter();
    const cache = createMetricsCache({ render: r.render, maxAgeMs: 1000, now: () => t });
    const first = cache.get();
    r.release();
    expect((await first).identity.toString()).toBe("render 1\n");
    t = 999;
    expect((await cache.get()).identity.toString()).toBe("render 1\n");
    t = 2000;
    const next = cache.get();
    r.release();
    expect((await next).identity.toString()).toBe("render 2\n");
    expect(r.calls()).toBe(2);
  });

  it("between maxAgeMs and twice that, serves the previous body while the next one renders", async () => {
    let t = 0;
    const r = counter();
    const cache = createMetricsCache({ render: r.render, maxAgeMs: 1000, now: () => t });
    const first = cache.get();
    r.release();
    await first;
    t = 1500;
    expect((await cache.get()).identity.toString()).toBe("render 1\n");
    expect(r.calls()).toBe(2);
    expect((await cache.get()).identity.toString()).toBe("render 1\n");
    expect(r.calls()).toBe(2);
    r.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect((await cache.get()).identity.toString()).toBe("render 2\n");
  });

  it("with maxAgeMs 0 a completed cycle is in the next scrape", async () => {
    let state = "before";
    const cache = createMetricsCache({ render: async () => state, maxAgeMs: 0, now: () => 0 });
    expect((await cache.get()).identity.toString()).toBe("before");
    state = "after";
    expect((await cache.get()).identity.toString()).toBe("after");
  });

  it("a failed render is not cached", async () => {
    let fail = true;
    const cache = createMetricsCache({ render: async () => (fail ? Promise.reject(new Error("boom")) : "ok"), now: () => 0 });
    await expect(cache.get()).rejects.toThrow("boom");
    fail = false;
    expect((await cache.get()).identity.toString()).toBe("ok");
  });

  it("gzips a body once, whatever the number of scrapes asking for it", async () => {
    const cache = createMetricsCache({ render: async () => "x".repeat(10_000), now: () => 0 });
    const body = await cache.get();
    const [a, b] = await Promise.all([body.gzip(), (await cache.get()).gzip()]);
    expect(a).toBe(b);
    expect(gunzipSync(a).toString()).toBe("x".repeat(10_000));
  });

  it("reads Accept-Encoding", () => {
    expect(acceptsGzip("gzip")).toBe(true);
    expect(acceptsGzip("identity, GZIP;q=0.5")).toBe(true);
    expect(acceptsGzip("*")).toBe(true);
    expect(acceptsGzip("gzip;q=0")).toBe(false);
    expect(acceptsGzip("deflate, br")).toBe(false);
    expect(acceptsGzip("*;q=1, gzip;q=0")).toBe(false);
    expect(acceptsGzip("*;q=0")).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});

describe("metrics cache within a scrape's time", () => {
  it("serves the older body when the render in flight takes longer than the scrape may wait", async () => {
    let t = 0;
    const r = counter();
    const cache = createMetricsCache({ render: r.render, maxAgeMs: 1000, now: () => t });
    const first = cache.get(50);
    r.release();
    expect((await first).identity.toString()).toBe("render 1\n");
    t = 5000; // older than 2 × maxAge: a render is worth waiting for, but not past the budget
    expect((await cache.get(50)).identity.toString()).toBe("render 1\n");
    expect(r.calls()).toBe(2);
    r.release();
    expect((await cache.get(50)).identity.toString()).toBe("render 2\n");
  });

  it("waits for the first render whatever the budget: there is nothing else to serve", async () => {
    const r = counter();
    const cache = createMetricsCache({ render: r.render, now: () => 0 });
    const first = cache.get(0);
    setTimeout(() => r.release(), 30);
    expect((await first).identity.toString()).toBe("render 1\n");
  });
});

describe("metrics cache and status changes", () => {
  it("does not serve a body from before a status change: the next scrape gets a new render", async () => {
    let changes = 0;
    const r = counter();
    const cache = createMetricsCache({ render: r.render, maxAgeMs: 60_000, now: () => 0, generation: () => changes });
    const first = cache.get();
    r.release();
    expect((await first).identity.toString()).toBe("render 1\n");
    expect((await cache.get()).identity.toString()).toBe("render 1\n"); // fresh: no render
    changes++;
    const next = cache.get();
    r.release();
    expect((await next).identity.toString()).toBe("render 2\n");
    expect((await cache.get()).identity.toString()).toBe("render 2\n");
    expect(r.calls()).toBe(2);
  });

  it("a render that began before the change is not what a scrape after it gets", async () => {
    let changes = 0;
    const renders: Array<() => void> = [];
    let n = 0;
    const cache = createMetricsCache({
      render: () => {
        const text = `render ${++n} (changes ${changes})\n`;
        return new Promise<string>((resolve) => renders.push(() => resolve(text)));
      },
      now: () => 0,
      generation: () => changes,
    });
    const before = cache.get();
    changes++;
    const after = cache.get();
    renders.forEach((release) => release());
    expect((await before).identity.toString()).toBe("render 1 (changes 0)\n");
    expect((await after).identity.toString()).toBe("render 2 (changes 1)\n");
    expect((await cache.get()).identity.toString()).toBe("render 2 (changes 1)\n");
  });
});
