import type { Registry } from "prom-client";
import type { ProbeResult } from "../contract/probe-result.js";
import type { Role, Status } from "../contract/types.js";

/** Options for `createMetrics()`. */
export interface MetricsOptions {
  /** Registry to register into. Never the prom-client global one. @default a new Registry */
  registry?: Registry;
  /**
   * Also export the original design's `db_read_latency_ms`, `db_write_latency_ms` and
   * `db_connection_count` gauges that existing alert rules and dashboards use. `promtool check
   * metrics` flags the `_ms` unit and the `_count` suffix of a gauge; without them the output
   * lints clean (`db_connections` and `db_probe_duration_seconds` carry the same figures).
   * @default true
   */
  legacyNames?: boolean;
  /**
   * Labels of `db_health_check_build_info` (always 1), the exporter's identity. An application
   * passes its own version, the source revision it was built from and the Node.js version, as
   * Prometheus' own `*_build_info` gauges do (`goversion` there), e.g.
   * `{ version: "1.4.0", revision: "3f2c1ab", nodeversion: process.version }`; the `healthcheck`
   * CLI does. Label names must be valid Prometheus label names.
   * @default { version: core version }
   */
  buildInfo?: Record<string, string>;
  /** Histogram buckets of `db_probe_duration_seconds`, in seconds. */
  buckets?: number[];
  /**
   * Also export prom-client's default collectors on this registry: the process (`process_cpu_*`,
   * `process_resident_memory_bytes`, `process_open_fds`, `process_start_time_seconds`, …) and
   * the runtime (`nodejs_eventloop_lag_*`, `nodejs_heap_*`, `nodejs_gc_duration_seconds`,
   * `nodejs_version_info`, …), as every exporter exposes its own process (without prom-client's
   * `nodejs_active_*_total` gauges, which promtool rejects for their counter-like names: sum the
   * per-type `nodejs_active_handles` and friends instead). Off in the library,
   * where the application usually registers its own; the `healthcheck` CLI turns it on. Never
   * registered twice: a registry that already has them keeps its own.
   * @default false
   */
  runtimeMetrics?: boolean;
}

/** A target known before its first probe result, for {@link DbHealthMetrics.declare}. */
export interface DeclaredTarget {
  /** The target's name (the `target` label). */
  target: string;
  /** Engine name (the `db_name` label), as the driver definition names it. */
  driver: string;
  /** The configured role, when it is not `auto`. @default "unknown" */
  role?: Role;
}

/** The exporter's metrics; feed it every {@link ProbeResult}. */
export interface DbHealthMetrics {
  /**
   * The prom-client registry the families are registered on. Their series are kept by these
   * metrics and copied into prom-client's when the registry is read (`registry.metrics()`,
   * `getSingleMetric(name).get()`), so what it prints is what {@link DbHealthMetrics.render} prints. Setting
   * one of them through prom-client has no lasting effect: the next read copies them again.
   */
  readonly registry: Registry;
  /** Updates every metric of the result's target. */
  observe(result: ProbeResult): void;
  /**
   * Gives a target its series before its first result, so that a scrape lists every configured
   * target from the start: `db_up 0`, the `db_status` state `unknown` at 1 (up, degraded and down
   * at 0) and `db_connection_errors_total 0`. The target's first `observe()` replaces them, under
   * the result's role, which may differ from the declared one (no stale series stay behind); from
   * then on `unknown` is 0. Declaring a target that already has a result changes nothing.
   *
   * @example
   * ```ts
   * for (const d of drivers) metrics.declare({ target: d.config.name, driver: d.definition.name });
   * ```
   */
  declare(target: DeclaredTarget): void;
  /**
   * Sets the `db_status` of a target whose result is observed, without a new cycle: for a rule
   * that looks beyond one target's cycle and changes the status of others (a cluster gaining a
   * second primary degrades every member). Everything else stays as the target's last
   * `observe()` set it; a target without an observed result is left alone.
   *
   * @example
   * ```ts
   * metrics.setStatus("orders-replica", "degraded"); // its cluster now has 2 primaries
   * ```
   */
  setStatus(target: string, status: Status): void;
  /** Removes every series of a target (when it is removed from the config). */
  forget(target: string): void;
  /**
   * The Prometheus text exposition of the whole registry. Label values of the db-health series
   * pass through core's `redact()` when a target's labels are set, and every other metric
   * registered on the registry is redacted as it is rendered, so the text can be served as is.
   * Each target's lines are formatted once after its cycle, not on every call: rendering 1,000
   * targets is joining strings, not formatting 100,000 samples.
   */
  render(): Promise<string>;
  /**
   * Only the series whose `target` label is `target`, each family with its `# HELP`/`# TYPE`
   * lines (families without such a series are left out), as `/probe?target=` serves them.
   * Empty when the target has no series.
   */
  renderTarget(target: string): string;
}
