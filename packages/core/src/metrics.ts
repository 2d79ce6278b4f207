import { createRequire } from "node:module";
import type { Counter, Gauge, Histogram, Registry } from "prom-client";
import { failedAttempts, type ProbeResult } from "./probe-result.js";
import { TIMED_PHASES, type Status } from "./types.js";
import { CORE_VERSION } from "./version.js";

/** Options for {@link createMetrics}. */
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
  /** Labels of `db_health_check_build_info`. @default { version: core version } */
  buildInfo?: Record<string, string>;
  /** Histogram buckets of `db_probe_duration_seconds`, in seconds. */
  buckets?: number[];
}

/** The exporter's metrics; feed it every {@link ProbeResult}. */
export interface DbHealthMetrics {
  readonly registry: Registry;
  /** Updates every metric of the result's target. */
  observe(result: ProbeResult): void;
  /** Removes every series of a target (when it is removed from the config). */
  forget(target: string): void;
  /** The Prometheus text exposition. */
  render(): Promise<string>;
}

const STATUSES: readonly Status[] = ["up", "degraded", "down"];
const BASE = ["db_name", "db_role", "target"] as const;
type BaseLabels = Record<(typeof BASE)[number], string>;

/**
 * Creates the metric set of ARCHITECTURE.md on an own prom-client `Registry`.
 *
 * @example
 * ```ts
 * const metrics = createMetrics({ legacyNames: false });
 * metrics.observe(await driver.probe());
 * res.end(await metrics.render());
 * ```
 */
export function createMetrics(options: MetricsOptions = {}): DbHealthMetrics {
  const { Counter, Gauge, Histogram, Registry } = loadPromClient();
  const registry = options.registry ?? new Registry();
  const registers = [registry];
  const legacy = options.legacyNames ?? true;

  const up = new Gauge({ name: "db_up", help: "1 if the database answered connect and ping in the last probe, 0 if not.", labelNames: BASE, registers });
  const readMs = legacy
    ? new Gauge({ name: "db_read_latency_ms", help: "Duration of the last read-back check in milliseconds (legacy name).", labelNames: BASE, registers })
    : undefined;
  const writeMs = legacy
    ? new Gauge({ name: "db_write_latency_ms", help: "Duration of the last write check in milliseconds (legacy name).", labelNames: BASE, registers })
    : undefined;
  const connections = new Gauge({ name: "db_connections", help: "Client connections open on the database, as the server reports them.", labelNames: BASE, registers });
  // promtool rejects a gauge ending in _count; the seed's name stays a legacy alias.
  const connectionCount = legacy
    ? new Gauge({ name: "db_connection_count", help: "Client connections open on the database (legacy name of db_connections).", labelNames: BASE, registers })
    : undefined;
  const errors = new Counter({ name: "db_connection_errors_total", help: "Failed connect or ping attempts.", labelNames: BASE, registers });
  const duration = new Histogram({
    name: "db_probe_duration_seconds",
    help: "Duration of each probe phase in seconds.",
    labelNames: [...BASE, "phase"],
    buckets: options.buckets ?? [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const status = new Gauge({ name: "db_status", help: "Probe status as a state set: 1 for the current status, 0 for the others.", labelNames: [...BASE, "status"], registers });
  const lag = new Gauge({ name: "db_replication_lag_seconds", help: "Replication lag of a replica in seconds.", labelNames: BASE, registers });
  const lastSuccess = new Gauge({
    name: "db_probe_last_success_timestamp_seconds",
    help: "Unix time of the last probe cycle that ended with status up.",
    labelNames: BASE,
    registers,
  });
  const build = { version: CORE_VERSION, ...options.buildInfo };
  new Gauge({ name: "db_health_check_build_info", help: "Build information of the exporter; always 1.", labelNames: Object.keys(build), registers }).set(build, 1);

  const perTarget: Array<[Gauge<string> | Counter<string> | Histogram<string>, Array<Record<string, string>>]> = [
    [up, [{}]],
    [connections, [{}]],
    [errors, [{}]],
    [duration, TIMED_PHASES.map((phase) => ({ phase }))],
    [status, STATUSES.map((s) => ({ status: s }))],
    [lag, [{}]],
    [lastSuccess, [{}]],
  ];
  for (const legacyGauge of [readMs, writeMs, connectionCount]) if (legacyGauge) perTarget.push([legacyGauge, [{}]]);
  const current = new Map<string, BaseLabels>();

  const forget = (target: string): void => {
    const labels = current.get(target);
    if (!labels) return;
    current.delete(target);
    // prom-client removes by exact label set, so each extra label value is named.
    for (const [metric, extras] of perTarget) for (const extra of extras) metric.remove({ ...labels, ...extra });
  };

  return {
    registry,
    forget,
    render: () => registry.metrics(),
    observe(result) {
      const labels: BaseLabels = { db_name: result.driver, db_role: result.role, target: result.target };
      const previous = current.get(result.target);
      if (previous && (previous.db_name !== labels.db_name || previous.db_role !== labels.db_role)) forget(result.target);
      current.set(result.target, labels);

      up.set(labels, result.status === "down" ? 0 : 1);
      for (const s of STATUSES) status.set({ ...labels, status: s }, s === result.status ? 1 : 0);
      errors.inc(labels, failedAttempts(result));
      for (const phase of TIMED_PHASES) {
        const p = result.phases[phase];
        if (p) duration.observe({ ...labels, phase }, p.ms / 1000);
      }
      setOrRemove(readMs, labels, result.phases.read?.ms);
      setOrRemove(writeMs, labels, result.phases.write?.ms);
      setOrRemove(connections, labels, result.connections);
      setOrRemove(connectionCount, labels, result.connections);
      setOrRemove(lag, labels, result.lagSeconds);
      if (result.status === "up") lastSuccess.set(labels, (result.startedAt + result.durationMs) / 1000);
    },
  };
}

// prom-client takes ~35 ms to load; `healthcheck --once` never needs it, so it is required
// (it is CommonJS) the first time metrics are created rather than when core is imported.
let promClient: typeof import("prom-client") | undefined;
function loadPromClient(): typeof import("prom-client") {
  promClient ??= createRequire(import.meta.url)("prom-client") as typeof import("prom-client");
  return promClient;
}

function setOrRemove(gauge: Gauge<string> | undefined, labels: BaseLabels, value: number | undefined): void {
  if (!gauge) return;
  if (value === undefined) gauge.remove(labels);
  else gauge.set(labels, value);
}
