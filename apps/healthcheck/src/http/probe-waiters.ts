/**
 * How many `/probe` requests wait on each target's probe cycle. Requests for one target share its
 * cycle and its answer, so beyond a few (one per Prometheus server scraping it, with room to
 * spare) more of them add nothing but sockets held: the rest are answered `503` at once.
 */

/** What {@link createProbeWaiters} returns. */
export interface ProbeWaiters {
  /** Counts a request in as waiting on `target`'s cycle; `undefined` when `max` wait already. Call the returned function once it has its answer. */
  enter(target: string): (() => void) | undefined;
  /** Requests waiting on `target`'s cycle now. */
  count(target: string): number;
}

/**
 * @param max requests that may wait on one target's cycle at once.
 * @example
 * ```ts
 * const waiters = createProbeWaiters(8);
 * const leave = waiters.enter("orders");
 * if (!leave) return send(res, 503, "too many requests waiting\n", TEXT, { "retry-after": "5" });
 * try { await cycle; } finally { leave(); }
 * ```
 */
export function createProbeWaiters(max: number): ProbeWaiters {
  // Only targets with a waiter have an entry: the map is bounded by the requests in flight.
  const counts = new Map<string, number>();
  return {
    enter(target) {
      const n = counts.get(target) ?? 0;
      if (n >= max) return undefined;
      counts.set(target, n + 1);
      let left = false;
      return () => {
        if (left) return;
        left = true;
        const rest = (counts.get(target) ?? 1) - 1;
        if (rest > 0) counts.set(target, rest);
        else counts.delete(target);
      };
    },
    count: (target) => counts.get(target) ?? 0,
  };
}
