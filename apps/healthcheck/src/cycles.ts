/**
 * The daemon's probe cycles: one in flight per target, shared by the schedule, lost connections
 * and `/probe`; at most {@link MAX_CONCURRENT_CYCLES} running across targets; and a cycle started
 * for a scrape fits in the scrape's time, its wait for a free slot included.
 */
import { performance } from "node:perf_hooks";
import type { Driver, ProbeResult } from "@alfred/db-health-core";
import { cycleBudgetMs, type ScrapeBudget } from "./http/scrape-budget.js";

/**
 * Cycles running at once, across all targets. A thousand targets due in the same second would
 * otherwise all connect at once: memory, sockets and file handles then peak with the number of
 * targets instead of this. A cycle's deadlines start when it runs, not while it waits its turn.
 */
export const MAX_CONCURRENT_CYCLES = 32;

/** Options of {@link createCycles}. */
export interface CyclesOptions {
  /** Aborts the cycles in flight (shutdown). */
  signal: AbortSignal;
  /** Every finished cycle's result, whoever started it; never an `unfinished` answer. */
  record(result: ProbeResult): void;
  /** @default MAX_CONCURRENT_CYCLES */
  slots?: number;
}

/** What {@link createCycles} returns. */
export interface Cycles {
  /**
   * Runs a cycle of `driver` now, or joins the one in flight, and resolves with that cycle's
   * result once it ends. With `budget`, a cycle started here gets what is left of the scrape's
   * time when its slot comes (core fits connect, ping, retries and the rest into it); a slot
   * that comes too late leaves the cycle its configured deadlines (the scrape has had its answer:
   * see `answerWithin`). `record` replaces the options' one for a cycle started here (a
   * discovered target records into its module's metrics).
   */
  run(driver: Driver, budget?: ScrapeBudget, record?: (result: ProbeResult) => void): Promise<ProbeResult>;
  /** `performance.now()` when the driver's latest cycle was asked for; 0 before the first. */
  lastStart(driver: Driver): number;
}

/**
 * @example
 * ```ts
 * const cycles = createCycles({ signal, record: (r) => metrics.observe(r) });
 * await cycles.run(driver);                 // the schedule
 * await cycles.run(driver, scrape.budget);  // a /probe with X-Prometheus-Scrape-Timeout-Seconds
 * ```
 */
export function createCycles(options: CyclesOptions): Cycles {
  const { signal, record } = options;
  // Keyed by the driver, not its name: a discovered target's driver may share a configured one's.
  const inFlight = new Map<Driver, Promise<ProbeResult>>();
  const started = new WeakMap<Driver, number>();
  const slot = limiter(options.slots ?? MAX_CONCURRENT_CYCLES);

  const probe = async (driver: Driver, budget: ScrapeBudget | undefined): Promise<ProbeResult> => {
    const ms = budget && cycleBudgetMs(budget);
    let result = await driver.probe(signal, ms === undefined ? undefined : { budgetMs: ms, budgetReason: budget!.reason });
    // Core answers a budgeted call `unfinished` when the cycle waited behind another operation
    // on the target past the budget; that cycle goes on, and a call without a budget joins it.
    if (result.unfinished) result = await driver.probe(signal);
    return result;
  };

  return {
    run(driver, budget, recordThis = record) {
      let running = inFlight.get(driver);
      if (!running) {
        started.set(driver, performance.now());
        running = slot(() => probe(driver, budget))
          .then((result) => {
            if (!signal.aborted) recordThis(result);
            return result;
          })
          .finally(() => inFlight.delete(driver));
        inFlight.set(driver, running);
      }
      return running;
    },
    lastStart: (driver) => started.get(driver) ?? 0,
  };
}

/**
 * A counting semaphore: `run(fn)` waits for a free slot. Each run first yields to the event loop
 * (setImmediate): cycles of synchronous engines (better-sqlite3) handed their slots one after
 * another would otherwise run back to back in one stretch of microtasks, and the replies that
 * other targets' servers sent meanwhile would wait behind them — past their deadlines. Seen at
 * start-up with 960 new SQLite files: MariaDB targets reported `role timed out after 2s`.
 */
function limiter(slots: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let free = slots;
  const waiting: Array<() => void> = [];
  return async (fn) => {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}
