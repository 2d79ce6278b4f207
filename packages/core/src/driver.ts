import { guardAdapter } from "./adapter-guard.js";
import { resolveTargetConfig, type TargetConfig, type TargetOptions } from "./config.js";
import { describeDsn, dsnSecrets, parseDsn } from "./dsn.js";
import { DbHealthError, errorMessage, isDbHealthError, redactError } from "./errors.js";
import { createRedactor } from "./redact.js";
import { driverRegistry, type DriverRegistry } from "./registry.js";
import { runCycle, type CycleOutcome } from "./probe-runner.js";
import { failedAttempts } from "./probe-result.js";
import { Session } from "./_internal/session.js";
import type { DriverAdapter } from "./driver-adapter.js";
import type { DriverDefinition } from "./driver-definition.js";
import type { ProbeResult } from "./probe-result.js";
import type { Role, Status } from "./types.js";

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
  /** One whole probe cycle; never rejects. Concurrent calls share the cycle in flight. */
  probe(signal?: AbortSignal): Promise<ProbeResult>;
  /** Closes the connection. The driver cannot be used afterwards. */
  close(): Promise<void>;
  /** Status after the last operation: `down` until something succeeded. */
  status(): Status;
  /** Latest figures, keyed by metric name: `db_ping_latency_ms`, `db_read_latency_ms`, … */
  metrics(): Readonly<Record<string, number>>;
  /** The last complete probe result, if any. */
  lastResult(): ProbeResult | undefined;
}

/** Options for {@link createDriver}. */
export interface CreateDriverOptions {
  /** Registry to look the scheme up in. @default the process-wide `driverRegistry` */
  registry?: DriverRegistry;
  /** Use this definition instead of looking the scheme up. */
  definition?: DriverDefinition;
}

/**
 * Creates the driver for one target. Validates the whole config first (every problem in one
 * error) and picks the driver registered for the DSN's scheme. Does not connect.
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
export function createDriver(options: TargetOptions | TargetConfig, createOptions: CreateDriverOptions = {}): Driver {
  const resolved = resolveTargetConfig(options);
  const definition = createOptions.definition ?? (createOptions.registry ?? driverRegistry).resolve(resolved.dsn);
  const redactText = createRedactor(dsnSecrets(resolved.dsn));
  const dsn = parseDsn(resolved.dsn);
  let adapter: DriverAdapter;
  let config = resolved;
  try {
    config = tightenTimeouts(resolved, definition.timeoutsFromDsn?.(dsn));
    adapter = guardAdapter(definition.createAdapter({ config, dsn, redact: redactText }), definition);
  } catch (err) {
    const cause = redactError(err, redactText);
    if (isDbHealthError(err)) throw new DbHealthError(err.kind, `${config.name}: ${redactText(err.message)}`, { driver: definition.name, cause });
    throw new DbHealthError("config", `${config.name}: ${definition.name} driver rejected the target: ${redactText(errorMessage(err))}`, {
      driver: definition.name,
      cause,
    });
  }
  return new ProbeDriver(config, definition, new Session(adapter, definition.name, redactText), describeDsn(config.dsn));
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

/**
 * Every operation runs through one queue, so the target never has two phases or two
 * connections in flight, whichever methods callers mix; `probe()` calls made while a cycle
 * is queued or running share it.
 */
class ProbeDriver implements Driver {
  #status: Status = "down";
  #figures: Record<string, number> = { db_connection_errors_total: 0 };
  #tail: Promise<unknown> = Promise.resolve();
  #inflight: Promise<ProbeResult> | undefined;
  #last: ProbeResult | undefined;
  #role: Role = "unknown";

  constructor(
    readonly config: TargetConfig,
    readonly definition: DriverDefinition,
    private readonly session: Session,
    private readonly endpoint: string,
  ) {}

  probe(signal?: AbortSignal): Promise<ProbeResult> {
    this.#inflight ??= this.#serial(async () => {
      const { result } = await this.#cycle(signal, true);
      // connection: per-cycle — nothing stays open between cycles (a failed close changes nothing
      // in the result: the adapter is asked for a fresh connection next time anyway).
      if (this.config.connection === "per-cycle") await this.session.disconnect().catch(() => undefined);
      return result;
    }).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  connect(signal?: AbortSignal): Promise<void> {
    return this.#serial(async () => {
      if (this.session.connected) return;
      const { result, error } = await this.#cycle(signal, false);
      if (result.status === "down") throw this.#fail(result, error);
    });
  }

  ping(signal?: AbortSignal): Promise<void> {
    return this.#serial(async () => {
      const { result, error } = await this.#cycle(signal, false);
      if (result.status === "down") throw this.#fail(result, error);
    });
  }

  checkReadWrite(signal?: AbortSignal): Promise<void> {
    return this.#serial(async () => {
      const { result, error } = await this.#cycle(signal, true);
      if (result.status !== "up") throw this.#fail(result, error);
    });
  }

  close(): Promise<void> {
    return this.#serial(() => this.session.close());
  }

  status(): Status {
    return this.#status;
  }

  metrics(): Readonly<Record<string, number>> {
    return { ...this.#figures };
  }

  lastResult(): ProbeResult | undefined {
    return this.#last;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #cycle(signal: AbortSignal | undefined, full: boolean): Promise<CycleOutcome> {
    const outcome = await runCycle(this.session, {
      config: this.config,
      scope: full ? "full" : "reachability",
      driverName: this.definition.name,
      endpoint: this.endpoint,
      lastRole: this.#role,
      ...(signal ? { signal } : {}),
    });
    this.#absorb(outcome.result, full);
    return outcome;
  }

  #absorb(r: ProbeResult, full: boolean): void {
    if (r.role !== "unknown") this.#role = r.role;
    // A connect/ping-only run cannot tell degraded from up, so it only lowers the status.
    this.#status = full || r.status === "down" ? r.status : this.#status === "down" ? "up" : this.#status;
    if (full) this.#last = r;
    const f = this.#figures;
    f.db_up = r.status === "down" ? 0 : 1;
    f.db_connection_errors_total = (f.db_connection_errors_total ?? 0) + failedAttempts(r);
    // Latencies of every phase that ran, failed or not, as the Prometheus gauges report them.
    const set = (key: string, value: number | undefined): void => {
      if (value !== undefined) f[key] = value;
    };
    set("db_connect_latency_ms", r.phases.connect?.ms);
    set("db_ping_latency_ms", r.phases.ping?.ms);
    set("db_write_latency_ms", r.phases.write?.ms);
    set("db_read_latency_ms", r.phases.read?.ms);
    set("db_connection_count", r.connections);
    set("db_replication_lag_seconds", r.lagSeconds);
  }

  /** The error behind the result's main problem, keeping its kind and the client's cause. */
  #fail(r: ProbeResult, error: DbHealthError | undefined): DbHealthError {
    const kind = error?.kind ?? (r.status === "down" ? "connect" : "query");
    return new DbHealthError(kind, `${r.target}: ${r.reason ?? r.status}`, {
      driver: this.definition.name,
      ...(error ? { cause: error.cause ?? error } : {}),
    });
  }
}
