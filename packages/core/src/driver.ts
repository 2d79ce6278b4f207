import { guardAdapter } from "./adapter-guard.js";
import { checkTargetConfigs, formatProblems } from "./config-check.js";
import type { TargetConfig, TargetOptions } from "./config.js";
import { describeDsn } from "./dsn.js";
import { DbHealthError, errorMessage, isDbHealthError, redactError } from "./errors.js";
import { createRedactor } from "./redact.js";
import { driverRegistry, type DriverRegistry } from "./registry.js";
import { ConnectionWatch } from "./_internal/connection-watch.js";
import { ProbeDriver } from "./_internal/probe-driver.js";
import { Session } from "./_internal/session.js";
import type { DriverAdapter } from "./driver-adapter.js";
import type { DriverDefinition } from "./driver-definition.js";
import type { ProbeResult } from "./probe-result.js";
import { isResolvedTarget, planTargets, type ResolvedTarget } from "./target-plan.js";
import type { Status } from "./types.js";

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

/** Options for {@link createDriver}, used when it is given options rather than a {@link ResolvedTarget}. */
export interface CreateDriverOptions {
  /** Registry to look the scheme up in. @default the process-wide `driverRegistry` */
  registry?: DriverRegistry;
  /** Use this definition instead of looking the scheme up. */
  definition?: DriverDefinition;
}

/**
 * Creates the driver for one target. Does not connect. Given options (or a `TargetConfig`), it
 * validates them first (every problem in one error) and picks the driver registered for the
 * DSN's scheme; given a {@link ResolvedTarget} from `planTargets` or `retarget`, it takes the
 * plan as it is: nothing is validated, parsed or looked up again (`createOptions` is unused).
 *
 * @example
 * ```ts
 * import "@alfred/db-health-driver-sqlite";
 * import { createDriver } from "@alfred/db-health-core";
 *
 * const driver = createDriver({ dsn: "file:app.db?mode=rwc", readTimeout: "500ms" });
 * const result = await driver.probe();
 * console.log(result.status, result.phases.write?.ms);
 * await driver.close();
 * ```
 */
export function createDriver(options: TargetOptions | TargetConfig | ResolvedTarget, createOptions: CreateDriverOptions = {}): Driver {
  const { config: resolved, dsn, definition, secrets } = isResolvedTarget(options) ? options : resolveOne(options, createOptions);
  const redactText = createRedactor(secrets);
  let adapter: DriverAdapter;
  let config = resolved;
  // The adapter may keep this callback from creation on; it reaches the watch made below.
  let connectionLost = (_reason: string): void => undefined;
  try {
    config = tightenTimeouts(resolved, definition.timeoutsFromDsn?.(dsn));
    const target = { config, dsn, redact: redactText, connectionLost: (reason: string) => connectionLost(reason) };
    adapter = guardAdapter(definition.createAdapter(target), definition);
  } catch (err) {
    const cause = redactError(err, redactText);
    if (isDbHealthError(err)) throw new DbHealthError(err.kind, `${config.name}: ${redactText(err.message)}`, { driver: definition.name, cause });
    throw new DbHealthError("config", `${config.name}: ${definition.name} driver rejected the target: ${redactText(errorMessage(err))}`, {
      driver: definition.name,
      cause,
    });
  }
  const session = new Session(adapter, definition.name, redactText);
  const watch = new ConnectionWatch(session, config.name, definition.name);
  connectionLost = watch.report;
  return new ProbeDriver(config, definition, session, watch, describeDsn(config.dsn));
}

/** Options as a library user gives them: validated (problems named as in resolveTargetConfig), then the driver looked up once. */
function resolveOne(options: unknown, createOptions: CreateDriverOptions): ResolvedTarget {
  const check = checkTargetConfigs([options]);
  const { problems, secrets } = check;
  if (problems.length > 0) throw new DbHealthError("config", formatProblems(problems, { single: true, secrets }), { secrets });
  const { dsn } = check.targets[0]!;
  const registry = createOptions.registry ?? driverRegistry;
  // resolve() only for its error, which names the DSN and the schemes registered.
  const definition = createOptions.definition ?? registry.get(dsn!.scheme) ?? registry.resolve((options as TargetOptions).dsn);
  return planTargets(check, [definition])[0]!;
}

function tightenTimeouts(config: TargetConfig, limits: Partial<Record<"connectTimeout" | "readTimeout" | "writeTimeout", number>> | undefined): TargetConfig {
  if (!limits) return config;
  const out = { ...config };
  for (const key of ["connectTimeout", "readTimeout", "writeTimeout"] as const) {
    const limit = limits[key];
    if (limit !== undefined && limit > 0 && limit < out[key]) out[key] = limit;
  }
  return out;
}
