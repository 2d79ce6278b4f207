/**
 * The time a Prometheus scrape gives the exporter: `X-Prometheus-Scrape-Timeout-Seconds` (the
 * job's `scrape_timeout`, sent with every scrape) less `--web.timeout-offset`, so that the answer
 * is on its way before Prometheus gives up on it, as blackbox_exporter and mysqld_exporter do.
 */
import { performance } from "node:perf_hooks";
import { formatDuration, type ProbeResult } from "@alfred/db-health-core";
import { within } from "./within.js";
import { quote } from "../config/problems.js";

/** The header Prometheus sends with every scrape (Node lower-cases header names). */
export const SCRAPE_TIMEOUT_HEADER = "x-prometheus-scrape-timeout-seconds";

/**
 * Time kept back from a cycle started for a scrape, so that the cycle's own result (cut short or
 * not) settles and is rendered before the scrape's deadline passes, rather than the scrape being
 * answered "unfinished" in the same millisecond as its cycle ends.
 */
export const SETTLE_MS = 50;

/**
 * A slot that frees up with less than this left of the scrape's time does not get the scrape's
 * budget: an attempt this short would mostly measure the budget, not the server. The scrape is
 * answered at its deadline and the cycle runs on its configured deadlines (as core does for a
 * retry; its threshold is the same).
 */
export const MIN_USEFUL_MS = 100;

/** One scrape's time: when it must be answered and what to say if it cannot be. */
export interface ScrapeBudget {
  /** `performance.now()` value by which the scrape must be answered. */
  deadline: number;
  /** The budget in ms (the header's timeout less the offset). */
  ms: number;
  /** The problem reported when the budget ends first: "probe did not finish within the scrape timeout (…)". */
  reason: string;
}

/**
 * Reads a scrape's budget from its request headers: `undefined` when Prometheus sent no timeout
 * (a person with curl: no budget, as before), a problem when the header is not a number of
 * seconds. An offset that would leave no time at all (a 0.4 s timeout, a 0.5 s offset) leaves
 * half the timeout instead.
 *
 * @example
 * ```ts
 * scrapeBudget("3", 500); // { deadline: now + 2500, ms: 2500, reason: "probe did not finish within the scrape timeout (2.5s: 3s less the 500ms offset)" }
 * scrapeBudget(undefined, 500); // undefined
 * scrapeBudget("soon", 500); // { problem: 'X-Prometheus-Scrape-Timeout-Seconds must be a number of seconds such as 10 or 9.5, got "soon"' }
 * ```
 */
export function scrapeBudget(header: string | string[] | undefined, offsetMs: number, now = performance.now()): ScrapeBudget | { problem: string } | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(", ") : header;
  // Prometheus writes the seconds as Go's strconv.FormatFloat(s, 'f', -1, 64): "10", "9.5".
  const seconds = /^\s*\d{1,9}(?:\.\d+)?\s*$/.test(text) ? Number(text) : NaN;
  if (!(seconds > 0)) {
    return { problem: `X-Prometheus-Scrape-Timeout-Seconds must be a number of seconds such as 10 or 9.5, got ${quote(text)}` };
  }
  const timeoutMs = seconds * 1000;
  const ms = timeoutMs - offsetMs > 0 ? timeoutMs - offsetMs : timeoutMs / 2;
  const how = offsetMs === 0 ? "" : timeoutMs - offsetMs > 0 ? `: ${formatDuration(timeoutMs)} less the ${formatDuration(offsetMs)} offset` : `: half of ${formatDuration(timeoutMs)}, which the ${formatDuration(offsetMs)} offset exceeds`;
  return { deadline: now + ms, ms, reason: `probe did not finish within the scrape timeout (${formatDuration(ms)}${how})` };
}

/**
 * Milliseconds of `budget` a cycle started now may use, or `undefined` when too little is left
 * to be useful (see {@link MIN_USEFUL_MS}).
 *
 * @example
 * ```ts
 * const ms = cycleBudgetMs(budget);
 * await driver.probe(signal, ms === undefined ? undefined : { budgetMs: ms, budgetReason: budget.reason });
 * ```
 */
export function cycleBudgetMs(budget: ScrapeBudget, now = performance.now()): number | undefined {
  const left = budget.deadline - now - SETTLE_MS;
  return left >= MIN_USEFUL_MS ? left : undefined;
}

/** What a scrape gets: the cycle's result, or the budget's reason when the cycle did not end in time. */
export type ProbeAnswer = { result: ProbeResult } | { unfinished: string };

/**
 * The cycle's result if it arrives before the scrape's deadline, else `{ unfinished: reason }`
 * at the deadline (the cycle goes on, and its result is recorded when it ends). Without a budget,
 * simply the result. A failing cycle rejects as it would without a budget.
 *
 * @example
 * ```ts
 * const answer = await answerWithin(cache.get(target, budget), budget);
 * if ("unfinished" in answer) log.log("debug", "scrape answered before the cycle ended", { target, reason: answer.unfinished });
 * ```
 */
export function answerWithin(cycle: Promise<ProbeResult>, budget: ScrapeBudget | undefined): Promise<ProbeAnswer> {
  const answer = cycle.then((result): ProbeAnswer => ({ result }));
  return budget ? within(answer, budget.deadline - performance.now(), () => ({ unfinished: budget.reason })) : answer;
}
