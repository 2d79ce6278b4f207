import { describe, expect, it } from "vitest";
import { result } from "./__fixtures__/http-fixtures.js";
import { answerWithin, cycleBudgetMs, MIN_USEFUL_MS, scrapeBudget, SETTLE_MS, type ScrapeBudget } from "./scrape-budget.js";

describe("scrapeBudget", () => {
  it("is the header's seconds less the offset, counted from now", () => {
    expect(scrapeBudget("10", 500, 1000)).toEqual({ deadline: 10_500, ms: 9500, reason: "probe did not finish within the scrape timeout (9.5s: 10s less the 500ms offset)" });
    expect(scrapeBudget("2.5", 0, 0)).toEqual({ deadline: 2500, ms: 2500, reason: "probe did not finish within the scrape timeout (2.5s)" });
    expect(scrapeBudget(" 3 ", 1000, 0)).toMatchObject({ ms: 2000 });
  });

  it("leaves half the timeout when the offset would leave nothing", () => {
    expect(scrapeBudget("0.4", 500, 0)).toEqual({ deadline: 200, ms: 200, reason: "probe did not finish within the scrape timeout (200ms: half of 400ms, which the 500ms offset exceeds)" });
    expect(scrapeBudget("0.5", 500, 0)).toMatchObject({ ms: 250 });
  });

  it("is no budget without the header (a person with curl), and a problem for a header that is not seconds", () => {
    expect(scrapeBudget(undefined, 500)).toBeUndefined();
    for (const bad of ["", "0", "-1", "abc", "1e3", "10s", "10, 10", "Infinity", "NaN", "0x10"]) {
      expect(scrapeBudget(bad, 500), bad).toEqual({ problem: `X-Prometheus-Scrape-Timeout-Seconds must be a number of seconds such as 10 or 9.5, got ${JSON.stringify(bad)}` });
    }
    expect(scrapeBudget("x".repeat(100), 500)).toEqual({ problem: `X-Prometheus-Scrape-Timeout-Seconds must be a number of seconds such as 10 or 9.5, got "${"x".repeat(40)}…"` });
  });
});

describe("cycleBudgetMs", () => {
  const budget = (deadline: number): ScrapeBudget => ({ deadline, ms: deadline, reason: "r" });
  it("gives a cycle the time left less a moment to settle, or nothing when too little is left to be useful", () => {
    expect(cycleBudgetMs(budget(3000), 500)).toBe(2500 - SETTLE_MS);
    expect(cycleBudgetMs(budget(1000), 1000 - SETTLE_MS - MIN_USEFUL_MS)).toBe(MIN_USEFUL_MS);
    expect(cycleBudgetMs(budget(1000), 1000 - SETTLE_MS - MIN_USEFUL_MS + 1)).toBeUndefined();
    expect(cycleBudgetMs(budget(1000), 2000)).toBeUndefined();
  });
});

describe("answerWithin", () => {
  const budget = (ms: number): ScrapeBudget => ({ deadline: performance.now() + ms, ms, reason: "probe did not finish within the scrape timeout (50ms)" });
  it("is the cycle's result when it comes in time", async () => {
    const r = result();
    expect(await answerWithin(Promise.resolve(r), budget(1000))).toEqual({ result: r });
    expect(await answerWithin(Promise.resolve(r), undefined)).toEqual({ result: r });
  });

  it("is the budget's reason at the deadline when the cycle goes on", async () => {
    let finish = (_: ReturnType<typeof result>): void => undefined;
    const cycle = new Promise<ReturnType<typeof result>>((resolve) => (finish = resolve));
    expect(await answerWithin(cycle, budget(50))).toEqual({ unfinished: "probe did not finish within the scrape timeout (50ms)" });
    finish(result());
    expect(await cycle).toMatchObject({ status: "up" });
  });

  it("rejects when the cycle fails in time", async () => {
    await expect(answerWithin(Promise.reject(new Error("boom")), budget(1000))).rejects.toThrow("boom");
  });
});
