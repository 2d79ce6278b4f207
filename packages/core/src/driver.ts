import { resolveTargetConfig, type TargetConfig, type TargetOptions } from "./config.js";
import { describeDsn, dsnSecrets, parseDsn } from "./dsn.js";
import { DbHealthError } from "./errors.js";
import { createRedactor } from "./redact.js";
import { driverRegistry, type DriverRegistry } from "./registry.js";
import { runCycle } from "./probe-runner.js";
import { Session } from "./_internal/session.js";
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
  const config = resolveTargetConfig(options);
  const definition = createOptions.definition ?? (createOptions.registry ?? driverRegistry).resolve(config.dsn);
  const redactText = createRedactor(dsnSecrets(config.dsn));
  const adapter = definition.createAdapter({ config, dsn: parseDsn(config.dsn), redact: redactText });
  return new ProbeDriver(config, definition, new Session(adapter, definition.name, redactText), describeDsn(config.dsn));
}

class ProbeDriver implements Driver {
  #status: Status = "down";
  #figures: Record<string, number> = { db_connection_errors_total: 0 };
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
    this.#inflight ??= this.#cycle(signal).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async connect(signal?: AbortSignal): Promise<void> {
    await this.#inflight?.catch(() => undefined);
    if (this.session.connected) return;
    const r = await this.#cycleWith(signal, false);
    if (r.status === "down") throw this.#fail("connect", r);
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await this.#inflight?.catch(() => undefined);
    const r = await this.#cycleWith(signal, false);
    if (r.status === "down") throw this.#fail("connect", r);
  }

  async checkReadWrite(signal?: AbortSignal): Promise<void> {
    const r = await this.probe(signal);
    if (r.status !== "up") throw this.#fail(r.status === "down" ? "connect" : "query", r);
  }

  async close(): Promise<void> {
    await this.#inflight?.catch(() => undefined);
    await this.session.close();
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

  #cycle(signal?: AbortSignal): Promise<ProbeResult> {
    return this.#cycleWith(signal, true);
  }

  async #cycleWith(signal: AbortSignal | undefined, full: boolean): Promise<ProbeResult> {
    const r = await runCycle(this.session, {
      config: this.config,
      scope: full ? "full" : "reachability",
      driverName: this.definition.name,
      endpoint: this.endpoint,
      lastRole: this.#role,
      onConnectionError: () => {
        this.#figures.db_connection_errors_total = (this.#figures.db_connection_errors_total ?? 0) + 1;
      },
      ...(signal ? { signal } : {}),
    });
    this.#absorb(r, full);
    return r;
  }

  #absorb(r: ProbeResult, full: boolean): void {
    if (r.role !== "unknown") this.#role = r.role;
    // A connect/ping-only run cannot tell degraded from up, so it only lowers the status.
    this.#status = full || r.status === "down" ? r.status : this.#status === "down" ? "up" : this.#status;
    if (full) this.#last = r;
    const f = this.#figures;
    f.db_up = r.status === "down" ? 0 : 1;
    const set = (key: string, value: number | undefined): void => {
      if (value !== undefined) f[key] = value;
    };
    set("db_connect_latency_ms", r.phases.connect?.ms);
    set("db_ping_latency_ms", r.phases.ping?.ok ? r.phases.ping.ms : undefined);
    set("db_write_latency_ms", r.phases.write?.ok ? r.phases.write.ms : undefined);
    set("db_read_latency_ms", r.phases.read?.ok ? r.phases.read.ms : undefined);
    set("db_connection_count", r.connections);
    set("db_replication_lag_seconds", r.lagSeconds);
  }

  #fail(kind: "connect" | "query", r: ProbeResult): DbHealthError {
    return new DbHealthError(kind, `${r.target}: ${r.reason ?? r.status}`, { driver: this.definition.name });
  }
}
