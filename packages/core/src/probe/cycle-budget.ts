import { performance } from "node:perf_hooks";
import { formatDuration } from "../config/duration-syntax.js";
import type { ProbeOptions } from "./driver-types.js";
import type { ProbeResult } from "../contract/probe-result.js";

/**
 * A retry is made only when at least this much of the budget is left after its retry interval:
 * a connect and a ping to a healthy server take milliseconds, even over TLS; an attempt with
 * less time than this would mostly report the budget, not the server.
 */
export const MIN_USEFUL_ATTEMPT_MS = 100;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The time a caller gave one probe cycle, as an absolute deadline on the `performance.now()`
 * clock, counted from the call (time spent waiting for the target's queue counts too).
 */
export class CycleBudget {
  private constructor(
    /** `performance.now()` value by which the caller must have its answer. */
    readonly deadline: number,
    /** The problem reported when the budget cuts the cycle short. */
    readonly reason: string,
  ) {}

  /**
   * The budget of `options`, or `undefined` when there is none (no, an infinite or a
   * longer-than-a-timer `budgetMs`). `clean` redacts the caller's reason, as everything a
   * result carries is.
   */
  static from(options: ProbeOptions | undefined, clean: (text: string) => string = (t) => t, now = performance.now()): CycleBudget | undefined {
    const ms = options?.budgetMs;
    // Beyond what a timer can wait (about 24.8 days) is no budget: Node would fire it at once.
    if (ms === undefined || ms >= MAX_TIMER_MS) return undefined;
    // NaN or a negative budget leaves no time at all: the answer is down at once, with the reason.
    const budget = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const reason = options?.budgetReason === undefined ? `probe did not finish within its time budget (${formatDuration(budget)})` : clean(String(options.budgetReason));
    return new CycleBudget(now + budget, reason);
  }

  /** Milliseconds left; 0 or less once the deadline passed. */
  left(): number {
    return this.deadline - performance.now();
  }

  /** A phase's deadline: its configured one, or the time left when that is shorter. */
  limit(configuredMs: number): number {
    return Math.min(configuredMs, this.left());
  }
}

/** One probe cycle that concurrent `probe()` calls share. */
export interface SharedCycle {
  /** Resolves with the cycle's result as soon as it has one. */
  result: Promise<ProbeResult>;
  /** Set when the cycle's phases started running (it is no longer queued). */
  started: boolean;
  /** The budget the cycle runs under, if its starter gave one. */
  budget?: CycleBudget;
  /** Set once the starter was answered without the cycle's result (its budget ended first). */
  answered?: boolean;
}

/**
 * The shared cycle's result if it arrives within `budget`, else `unfinished()` at the deadline;
 * the cycle goes on either way. A cycle already running under a deadline no later than this
 * caller's ends by then on its own phase deadlines, so it is waited for rather than answered
 * for (the timers of both may fire in the same millisecond).
 */
export function resultWithin(cycle: SharedCycle, budget: CycleBudget, unfinished: () => ProbeResult): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (cycle.started && cycle.budget && cycle.budget.deadline <= budget.deadline) return;
      if (cycle.budget === budget) cycle.answered = true;
      resolve(unfinished());
    }, Math.max(0, budget.left()));
    cycle.result.then(
      (result) => {
        clearTimeout(timer);
        resolve(result);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
