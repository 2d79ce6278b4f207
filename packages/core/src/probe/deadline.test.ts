import { describe, expect, it, vi } from "vitest";
import { sleep, withDeadline } from "./deadline.js";

describe("withDeadline", () => {
  it("resolves with the value when the work finishes in time", async () => {
    await expect(withDeadline(1000, async () => 42, { what: "ping" })).resolves.toBe(42);
  });

  it("rejects on time when the work never settles and ignores its signal", async () => {
    let destroyed = 0;
    let seen: AbortSignal | undefined;
    const t0 = performance.now();
    const p = withDeadline(
      150,
      (signal) => {
        seen = signal;
        return new Promise<never>(() => undefined);
      },
      { what: "ping", onTimeout: () => destroyed++ },
    );
    await expect(p).rejects.toMatchObject({ kind: "timeout", message: "ping timed out after 150ms" });
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(145);
    expect(elapsed).toBeLessThan(400);
    expect(destroyed).toBe(1);
    expect(seen?.aborted).toBe(true);
  });

  it("passes the work's own rejection through unchanged", async () => {
    const boom = new Error("boom");
    await expect(withDeadline(1000, async () => Promise.reject(boom), { what: "read" })).rejects.toBe(boom);
  });

  it("turns a synchronous throw into a rejection", async () => {
    await expect(
      withDeadline(1000, () => {
        throw new Error("sync");
      }, { what: "read" }),
    ).rejects.toThrow("sync");
  });

  it("ignores a late rejection after the deadline (no unhandled rejection)", async () => {
    const p = withDeadline(20, () => sleep(60).then(() => Promise.reject(new Error("late"))), { what: "write" });
    await expect(p).rejects.toMatchObject({ kind: "timeout" });
    await sleep(80);
  });

  it("ends at once when the outer signal aborts", async () => {
    const outer = new AbortController();
    let destroyed = 0;
    const p = withDeadline(10_000, () => new Promise<never>(() => undefined), { what: "connect", signal: outer.signal, onTimeout: () => destroyed++ });
    setTimeout(() => outer.abort(new Error("shutdown")), 20);
    await expect(p).rejects.toThrow("connect aborted: shutdown");
    expect(destroyed).toBe(1);
  });

  it("arms no timer for work that settles before the next tick (a synchronous client)", async () => {
    const spy = vi.spyOn(globalThis, "setTimeout");
    try {
      const outer = new AbortController();
      await expect(withDeadline(1000, async () => 7, { what: "ping", signal: outer.signal })).resolves.toBe(7);
      expect(spy).not.toHaveBeenCalled();
      await expect(withDeadline(1000, () => sleep(5).then(() => 8), { what: "ping" })).resolves.toBe(8);
      expect(spy).toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it("reports a shutdown that happened while the work ran synchronously", async () => {
    const outer = new AbortController();
    const p = withDeadline(1000, async () => {
      outer.abort(new Error("shutdown"));
      return 1;
    }, { what: "write", signal: outer.signal });
    await expect(p).rejects.toThrow("write aborted: shutdown");
  });

  it("a synchronous step that overran its deadline is still a timeout", async () => {
    const p = withDeadline(5, async () => {
      const until = performance.now() + 20;
      while (performance.now() < until);
      return 1;
    }, { what: "read" });
    await expect(p).rejects.toMatchObject({ kind: "timeout", message: "read timed out after 5ms" });
  });

  it("rejects at once when the outer signal already aborted", async () => {
    await expect(withDeadline(1000, async () => 1, { what: "ping", signal: AbortSignal.abort() })).rejects.toMatchObject({ kind: "timeout" });
  });
});

describe("sleep", () => {
  it("wakes early when its signal aborts", async () => {
    const c = new AbortController();
    const t0 = performance.now();
    setTimeout(() => c.abort(), 10);
    await sleep(5000, c.signal);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
