/** What `createDriver` gives the library's users: the {@link Driver} interface and its option and event types. */
import type { TargetConfig } from "../config/types.js";
import type { DbHealthError } from "../contract/errors.js";
import type { DriverDefinition } from "../contract/driver-definition.js";
import type { ProbeResult } from "../contract/probe-result.js";
import type { Status } from "../contract/types.js";

/**
 * What users of the library get from {@link createDriver}: the original design's interface,
 * plus `probe()` for a whole cycle. One instance = one target = at most one connection.
 */
export interface Driver {
  /** The resolved configuration (durations in ms). Contains the DSN: do not log it. */
  readonly config: TargetConfig;
  /** The driver definition serving this target. */
  readonly definition: DriverDefinition;
  /** Connects (with retries) unless connected. Rejects with a redacted {@link DbHealthError}. */
  connect(signal?: AbortSignal): Promise<void>;
  /** Pings (connecting first if needed). Rejects with a redacted error; status becomes down. */
  ping(signal?: AbortSignal): Promise<void>;
  /** Role-aware write + token-verified read. Rejects when the check fails; status becomes degraded. */
  checkReadWrite(signal?: AbortSignal): Promise<void>;
  /**
   * One whole probe cycle; never rejects. Concurrent calls share the cycle in flight. With
   * `options.budgetMs` the answer comes within that time, retries included (see
   * {@link ProbeOptions}).
   *
   * @example
   * ```ts
   * // a scrape with X-Prometheus-Scrape-Timeout-Seconds: 10, minus a 0.5 s offset
   * const r = await driver.probe(shutdown, { budgetMs: 9500, budgetReason: "probe did not finish within the scrape timeout (9.5s)" });
   * ```
   */
  probe(signal?: AbortSignal, options?: ProbeOptions): Promise<ProbeResult>;
  /** Closes the connection. The driver cannot be used afterwards. */
  close(): Promise<void>;
  /**
   * From now on, holds no connection between cycles, as `connection: per-cycle` does: the one
   * open now is closed once the cycle in flight (if any) ends. For a database that is being told
   * to stop: a PostgreSQL smart shutdown waits for every client, while the probe goes on saying
   * what the database answers.
   *
   * @example
   * ```ts
   * await driver.letGo(); // the wrapped database got SIGTERM
   * ```
   */
  letGo(): Promise<void>;
  /** Status after the last operation: `down` until something succeeded. */
  status(): Status;
  /** Latest figures, keyed by metric name: `db_ping_latency_ms`, `db_read_latency_ms`, … */
  metrics(): Readonly<Record<string, number>>;
  /** The last complete probe result, if any (never a budget's `unfinished` answer). */
  lastResult(): ProbeResult | undefined;
  /**
   * Calls `listener` when the connection held between operations is lost (the server closed
   * it, or the client library reported it broken), once per connection, so that the caller can
   * probe at once instead of at the next interval. The session is already marked disconnected:
   * the next operation reconnects. Never called for the driver's own close or destroy, after
   * `close()`, with `connection: per-cycle` (nothing is held between cycles), nor by drivers
   * that cannot tell (SQLite has no connection to lose). Returns the function that unsubscribes.
   *
   * @example
   * ```ts
   * const stop = driver.onConnectionLost((e) => {
   *   log.warn("connection lost", { target: e.target, reason: e.reason });
   *   void driver.probe().then(record);
   * });
   * ```
   */
  onConnectionLost(listener: (event: ConnectionLostEvent) => void): () => void;
}

/**
 * Options of {@link Driver.probe}.
 *
 * @example
 * ```ts
 * const options: ProbeOptions = { budgetMs: 2500, budgetReason: "probe did not finish within the scrape timeout (2.5s)" };
 * ```
 */
export interface ProbeOptions {
  /**
   * Time for the whole cycle in milliseconds, counted from this call, retries included. Each
   * phase's deadline is the smaller of its configured one and the time left; a retry (and its
   * pause) is made only when time is left for it to be useful; a phase with no time left does
   * not start. A cycle cut short is `down` when connect/ping never succeeded and `degraded`
   * when a later phase was cut, with `budgetReason` as its reason. A call that joins a cycle
   * already in flight waits at most this long: it then resolves with a `down` result marked
   * `unfinished`, while the shared cycle goes on and becomes `lastResult()` when it ends.
   * A value of 0 or less (or NaN) leaves no time at all; `Infinity`, or more than a timer can
   * wait (2^31 − 1 ms, about 24.8 days), is no budget.
   * @default no budget: every phase gets its configured deadline and every retry is made
   */
  budgetMs?: number;
  /**
   * The problem reported when the budget cuts the cycle short, or ends the wait for a shared one.
   * @default "probe did not finish within its time budget (<budgetMs>)"
   */
  budgetReason?: string;
}

/** What {@link Driver.onConnectionLost} listeners receive. Every string in it is redacted. */
export interface ConnectionLostEvent {
  /** The target's configured name. */
  target: string;
  /** Engine name (the `db_name` label). */
  driver: string;
  /** What the client library said, redacted and on one line (`terminating connection due to administrator command (SQLSTATE 57P01)`). */
  reason: string;
  /** When core heard of it, milliseconds since the epoch. */
  at: number;
}
