/** The bounds of discovered targets, in one object that the Limits section of docs/configuration.md quotes. */

/**
 * How many discovered targets are kept and for how long. Each one held is a driver and, with the
 * default `connection: persistent`, one open connection to its database.
 *
 * @example
 * ```ts
 * createDiscoveredTargets({ ...options, maxTargets: DISCOVERY_LIMITS.maxTargets });
 * ```
 */
export const DISCOVERY_LIMITS = {
  /**
   * Discovered targets kept at once, all modules together: the 1,000 targets the benchmarks run.
   * A new one evicts the one used least recently (closed, its series removed) unless every one
   * is in use, then it is `503`.
   */
  maxTargets: 1_000,
  /**
   * A discovered target that no `/probe` asked for this long is closed and forgotten: longer than
   * any usual scrape interval (up to 2 min, twice over), short enough that targets gone from
   * service discovery (a deleted pod) give their connections back within minutes.
   */
  idleMs: 300_000,
} as const;
