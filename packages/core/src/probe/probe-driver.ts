import { DbHealthError } from "../contract/errors.js";
import { failedAttempts } from "../contract/probe-result.js";
import { runCycle } from "./probe-runner.js";
import type { CycleOutcome } from "./cycle-types.js";
import { CycleBudget, resultWithin, type SharedCycle } from "./cycle-budget.js";
import { labelRole } from "./cycle-rules.js";
import type { ConnectionWatch } from "./connection-watch.js";
import type { Session } from "./session.js";
import type { TargetConfig } from "../config/types.js";
import type { ConnectionLostEvent, Driver, ProbeOptions } from "./driver-types.js";
import type { DriverDefinition } from "../contract/driver-definition.js";
import type { ProbeResult } from "../contract/probe-result.js";
import type { Role, Status } from "../contract/types.js";

/**
 * The {@link Driver} that `createDriver` returns. Every operation runs through one queue, so the
 * target never has two phases or two connections in flight, whichever methods callers mix;
 * `probe()` calls made while a cycle is queued or running share it. Internal to core.
 */
export class ProbeDriver implements Driver {
  #status: Status = "down";
  #figures: Record<string, number> = { db_connection_errors_total: 0 };
  #tail: Promise<unknown> = Promise.resolve();
  #inflight: SharedCycle | undefined;
  #last: ProbeResult | undefined;
  #role: Role = "unknown";
  #letGo = false;

  constructor(
    readonly config: TargetConfig,
    readonly definition: DriverDefinition,
    private readonly session: Session,
    private readonly watch: ConnectionWatch,
    private readonly endpoint: string,
  ) {}

  probe(signal?: AbortSignal, options?: ProbeOptions): Promise<ProbeResult> {
    const calledAt = Date.now();
    const budget = CycleBudget.from(options, (text) => this.session.clean(text));
    let cycle = this.#inflight;
    if (!cycle) {
      // The queued work runs after this function returned, when `shared` is set.
      let shared: SharedCycle | undefined;
      const result = this.#serial(async () => {
        shared!.started = true;
        // Queued behind another operation until its starter had its answer (its budget ended):
        // the cycle runs on the configured deadlines rather than be recorded as cut short
        // without having tried.
        if (shared!.answered) delete shared!.budget;
        return (await this.#cycle(signal, true, shared!.budget)).result;
      }).finally(() => {
        if (this.#inflight === shared) this.#inflight = undefined;
      });
      shared = { result, started: false, ...(budget ? { budget } : {}) };
      // connection: per-cycle — nothing stays open between cycles. Queued right behind the cycle,
      // so it runs before any other operation, but the callers have their result without waiting
      // for a server's goodbye (a failed close changes nothing: the next cycle connects anew).
      if (this.config.connection === "per-cycle" || this.#letGo) void this.#serial(() => this.session.disconnect().catch(() => undefined));
      this.#inflight = cycle = shared;
    }
    return budget ? resultWithin(cycle, budget, () => this.#unfinished(budget, calledAt)) : cycle.result;
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

  letGo(): Promise<void> {
    this.#letGo = true;
    return this.#serial(() => this.session.disconnect().catch(() => undefined));
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

  onConnectionLost(listener: (event: ConnectionLostEvent) => void): () => void {
    return this.watch.subscribe(listener);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.watch.busy(true);
      try {
        return await fn();
      } finally {
        this.watch.busy(false);
      }
    };
    const queued = this.#tail.then(run, run);
    this.#tail = queued.catch(() => undefined);
    return queued;
  }

  async #cycle(signal: AbortSignal | undefined, full: boolean, budget?: CycleBudget): Promise<CycleOutcome> {
    const outcome = await runCycle(this.session, {
      config: this.config,
      scope: full ? "full" : "reachability",
      driverName: this.definition.name,
      endpoint: this.endpoint,
      lastRole: this.#role,
      ...(signal ? { signal } : {}),
      ...(budget ? { budget } : {}),
    });
    this.#absorb(outcome.result, full);
    return outcome;
  }

  /** The answer to a caller whose budget ended before the shared cycle did; recorded nowhere. */
  #unfinished(budget: CycleBudget, calledAt: number): ProbeResult {
    return {
      target: this.config.name,
      driver: this.definition.name,
      endpoint: this.endpoint,
      status: "down",
      role: labelRole(this.config, this.#role),
      readOnly: false,
      reason: budget.reason,
      problems: [budget.reason],
      phases: {},
      attempts: 0,
      startedAt: calledAt,
      durationMs: Date.now() - calledAt,
      unfinished: true,
    };
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
    set("db_connections_max", r.connectionsMax);
    set("db_tls_certificate_expiry_timestamp_seconds", r.certificateExpiresAt === undefined ? undefined : r.certificateExpiresAt / 1000);
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
