import { describe, expect, it } from "vitest";
import { createProbeWaiters } from "./probe-waiters.js";

describe("createProbeWaiters", () => {
  it("lets `max` requests wait on one target, others on other targets, and frees a place when one leaves", () => {
    const w = createProbeWaiters(2);
    const a1 = w.enter("a")!;
    const a2 = w.enter("a")!;
    expect(w.enter("a")).toBeUndefined();
    expect(w.enter("b")).toBeDefined();
    expect(w.count("a")).toBe(2);
    a1();
    a1(); // leaving twice frees one place, not two
    expect(w.count("a")).toBe(1);
    expect(w.enter("a")).toBeDefined();
    expect(w.enter("a")).toBeUndefined();
    a2();
    expect(w.count("a")).toBe(1);
  });
});
