import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { onAbort } from "./on-abort.js";
import { sleep, withDeadline } from "./deadline.js";

describe("onAbort", () => {
  it("calls every callback once, in the order added, through one listener", () => {
    const c = new AbortController();
    const calls: string[] = [];
    for (const name of ["a", "b", "c"]) onAbort(c.signal, () => calls.push(name));
    expect(getEventListeners(c.signal, "abort")).toHaveLength(1);
    c.abort();
    c.abort();
    expect(calls).toEqual(["a", "b", "c"]);
  });

  it("does not call a callback taken back, and forgets a signal's callbacks once it aborted", () => {
    const c = new AbortController();
    const calls: string[] = [];
    const forgetA = onAbort(c.signal, () => calls.push("a"));
    onAbort(c.signal, () => calls.push("b"));
    forgetA();
    forgetA();
    c.abort();
    expect(calls).toEqual(["b"]);
  });

  it("removes its listener with the last callback, and skips a callback an earlier one took back", () => {
    const c = new AbortController();
    const forget = [onAbort(c.signal, () => undefined), onAbort(c.signal, () => undefined)];
    forget.forEach((f) => f());
    expect(getEventListeners(c.signal, "abort")).toHaveLength(0);
    const calls: string[] = [];
    let forgetB = (): void => undefined;
    onAbort(c.signal, () => {
      calls.push("a");
      forgetB();
    });
    forgetB = onAbort(c.signal, () => calls.push("b"));
    expect(getEventListeners(c.signal, "abort")).toHaveLength(1);
    c.abort();
    expect(calls).toEqual(["a"]);
  });

  it("keeps a shared signal at one listener while 1,000 sleeps and deadlines wait on it, and wakes them all", async () => {
    const shutdown = new AbortController();
    const sleeps = Array.from({ length: 1000 }, () => sleep(60_000, shutdown.signal));
    const deadlines = Array.from({ length: 100 }, () =>
      withDeadline(60_000, (signal) => new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve())), { what: "ping", signal: shutdown.signal }),
    );
    await new Promise((r) => setImmediate(r));
    expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(1);
    shutdown.abort(new Error("stopping"));
    await Promise.all(sleeps);
    const settled = await Promise.allSettled(deadlines);
    expect(settled.map((s) => (s.status === "rejected" ? (s.reason as Error).message : "resolved"))).toEqual(Array(100).fill("ping aborted: stopping"));
  });
});
