/** The `/probe` endpoint's shield between scrapers and the databases. */
import type { ProbeResult } from "@alfred/db-health-core";
import type { ScrapeBudget } from "./scrape-budget.js";

/** Options of {@link createProbeCache}. */
export interface ProbeCacheOptions {
  /** A result younger than this (ms) is served instead of probing again. */
  ttlMs: number;
  /**
   * Runs one probe cycle for a target, or joins the one in flight, and resolves with its result.
   * `budget` is the scrape's that asked first: a cycle it starts should fit in it.
   */
  probe(target: string, budget?: ScrapeBudget): Promise<ProbeResult>;
  /** The latest result the daemon's own loop produced, which counts as fresh too. */
  latest?(target: string): ProbeResult | undefined;
  /**
   * When (ms since the epoch) the target's connection was last lost, if ever: a result whose
   * cycle began before that is known to be out of date and is never served, however young.
   */
  lostAt?(target: string): number | undefined;
  /** Clock in ms since the epoch (tests). @default Date.now */
  now?(): number;
}

/** What {@link createProbeCache} returns. */
export interface ProbeCache {
  /**
   * The target's result from the cache, or the cycle in flight (started now if there is none,
   * with `probe` when given: a discovered target's, else the options').
   */
  get(target: string, budget?: ScrapeBudget, probe?: (budget?: ScrapeBudget) => Promise<ProbeResult>): Promise<ProbeResult>;
  /** A result young enough to be served as is, if there is one: then `get()` does not wait. */
  fresh(target: string): ProbeResult | undefined;
  /** Drops what the cache holds for a target that is gone (a discovered target evicted). */
  forget(target: string): void;
}

/**
 * Per-target cache with single flight: however many requests arrive, a target is probed at
 * most once per `ttlMs`, and requests that arrive while a probe runs all wait for that one.
 * Failed probes are not cached (the next request tries again), but still shared while in flight.
 * A result from before the target's last lost connection is not served either: the request
 * joins the cycle the loss set off (or starts one).
 * `get()` resolves with a cycle's result however long it takes: a scrape bounds its own wait
 * (`answerWithin()`), since requests sharing one cycle may have different budgets.
 *
 * @example
 * ```ts
 * const cache = createProbeCache({ ttlMs: 5000, probe: (t, b) => state.probe(t, b), latest: (t) => state.results().get(t) });
 * const answer = await answerWithin(cache.get("orders", budget), budget);
 * ```
 */
export function createProbeCache(options: ProbeCacheOptions): ProbeCache {
  const now = options.now ?? Date.now;
  const done = new Map<string, { result: ProbeResult; at: number }>();
  const inFlight = new Map<string, Promise<ProbeResult>>();

  const freshest = (target: string): { result: ProbeResult; at: number } | undefined => {
    const own = done.get(target);
    const latest = options.latest?.(target);
    // A result's age counts from the end of its cycle: that is when it was true.
    const theirs = latest ? { result: latest, at: latest.startedAt + latest.durationMs } : undefined;
    if (!own) return theirs;
    return theirs && theirs.at > own.at ? theirs : own;
  };

  const fresh = (target: string): ProbeResult | undefined => {
    const cached = freshest(target);
    if (!cached || now() - cached.at >= options.ttlMs) return undefined;
    const lost = options.lostAt?.(target);
    return lost !== undefined && cached.result.startedAt < lost ? undefined : cached.result;
  };

  return {
    fresh,
    forget(target) {
      done.delete(target);
      // A cycle still running for it must not put its result back when it ends.
      inFlight.delete(target);
    },
    get(target, budget, probe) {
      const cached = fresh(target);
      if (cached) return Promise.resolve(cached);
      let running = inFlight.get(target);
      if (!running) {
        const own: Promise<ProbeResult> = Promise.resolve()
          .then(() => (probe ? probe(budget) : options.probe(target, budget)))
          .then((result) => {
            if (inFlight.get(target) === own) done.set(target, { result, at: now() });
            return result;
          })
          .finally(() => {
            if (inFlight.get(target) === own) inFlight.delete(target);
          });
        running = own;
        inFlight.set(target, own);
      }
      return running;
    },
  };
}
