import { createRequire } from "node:module";
import type { Counter, Gauge, Histogram, Registry } from "prom-client";
import { failedAttempts, type ProbeResult } from "./probe-result.js";
import { redact } from "./redact.js";
import { TIMED_PHASES, type Status } from "./types.js";
import { CORE_VERSION } from "./version.js";
import {
  familyHeader,
  formatLabels,
  gaugeLines,
  histogramLines,
  observeHistogram,
  statusLines,
  type GaugeKey,
  type TargetSeries,
} from "./_internal/target-exposition.js";

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

const STATUSES: readonly Status[] = ["up", "degraded", "down"];
const DEFAULT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
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
  const buckets = [...(options.buckets ?? DEFAULT_BUCKETS)].sort((a, b) => a - b);

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
    buckets,
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
  // The same series again, kept per target as text for render() (prom-client stays the store
  // that registry.metrics() and getSingleMetric() read).
  const series = new Map<string, TargetSeries & { labels: BaseLabels }>();
  const gauge = (key: GaugeKey) => (name: string, s: TargetSeries) => gaugeLines(name, s, key);
  const families = new Map<object, { name: string; lines: (name: string, s: TargetSeries) => string }>([
    [up, { name: "db_up", lines: gauge("up") }],
    [connections, { name: "db_connections", lines: gauge("connections") }],
    [errors, { name: "db_connection_errors_total", lines: (name, s) => `${name}{${s.labelText}} ${s.errors}` }],
    [duration, { name: "db_probe_duration_seconds", lines: (name, s) => histogramLines(name, s, buckets) }],
    [status, { name: "db_status", lines: statusLines }],
    [lag, { name: "db_replication_lag_seconds", lines: gauge("lag") }],
    [lastSuccess, { name: "db_probe_last_success_timestamp_seconds", lines: gauge("lastSuccess") }],
  ]);
  if (readMs) families.set(readMs, { name: "db_read_latency_ms", lines: gauge("readMs") });
  if (writeMs) families.set(writeMs, { name: "db_write_latency_ms", lines: gauge("writeMs") });
  if (connectionCount) families.set(connectionCount, { name: "db_connection_count", lines: gauge("connectionCount") });

  // Labels set with registry.setDefaultLabels() go on every series, as prom-client puts them
  // (after the series' own, never overriding one). Checked on every observe and render: a
  // change re-labels the cached text of every target.
  let defaultsKey = "";
  let defaultsText = "";
  const labelTextFor = (labels: BaseLabels): string => formatLabels(labels) + (defaultsText ? `,${defaultsText}` : "");
  const syncDefaultLabels = (): void => {
    const defaults = (registry as unknown as { _defaultLabels?: Record<string, unknown> })._defaultLabels ?? {};
    const extra = Object.fromEntries(
      Object.entries(defaults)
        .filter(([name]) => !(BASE as readonly string[]).includes(name))
        .map(([name, value]) => [name, redact(String(value))]),
    );
    const key = JSON.stringify(extra);
    if (key === defaultsKey) return;
    defaultsKey = key;
    defaultsText = Object.keys(extra).length > 0 ? formatLabels(extra) : "";
    for (const s of series.values()) {
      s.labelText = labelTextFor(s.labels);
      s.text.clear();
    }
  };

  const targetLines = (metric: object, s: TargetSeries): string => {
    const family = families.get(metric)!;
    let text = s.text.get(family.name);
    if (text === undefined) {
      text = family.lines(family.name, s);
      s.text.set(family.name, text);
    }
    return text;
  };
  const familyText = (metric: { name: string; help: string }, type: string, only?: TargetSeries): string | undefined => {
    const parts = [familyHeader(metric.name, metric.help, type)];
    for (const s of only ? [only] : series.values()) {
      const text = targetLines(metric, s);
      if (text) parts.push(text);
    }
    return only && parts.length === 1 ? undefined : parts.join("\n");
  };

  const forget = (target: string): void => {
    const s = series.get(target);
    if (!s) return;
    series.delete(target);
    // prom-client removes by exact label set, so each extra label value is named.
    for (const [metric, extras] of perTarget) for (const extra of extras) metric.remove({ ...s.labels, ...extra });
  };

  return {
    registry,
    forget,
    async render() {
      // An OpenMetrics registry (a caller's own) has another format: prom-client renders it.
      if (registry.contentType !== Registry.PROMETHEUS_CONTENT_TYPE) return redact(await registry.metrics());
      syncDefaultLabels();
      const parts: string[] = [];
      for (const metric of registry.getMetricsAsArray()) {
        if (families.has(metric)) parts.push(familyText(metric, metricType(metric))!);
        else parts.push(redact(await registry.getSingleMetricAsString(metric.name)));
      }
      return `${parts.join("\n\n")}\n`;
    },
    renderTarget(target) {
      syncDefaultLabels();
      const s = series.get(target);
      if (!s) return "";
      const parts: string[] = [];
      for (const metric of registry.getMetricsAsArray()) {
        const text = families.has(metric) ? familyText(metric, metricType(metric), s) : undefined;
        if (text) parts.push(text);
      }
      return parts.length === 0 ? "" : `${parts.join("\n")}\n`;
    },
    observe(result) {
      // Label values are redacted once, when a target's labels are set, not on every scrape.
      const labels: BaseLabels = { db_name: redact(result.driver), db_role: result.role, target: redact(result.target) };
      const previous = series.get(result.target);
      if (previous && (previous.labels.db_name !== labels.db_name || previous.labels.db_role !== labels.db_role)) forget(result.target);
      syncDefaultLabels();
      let s = series.get(result.target);
      if (!s) {
        s = { labels, labelText: labelTextFor(labels), gauges: {}, status: [], errors: 0, histogram: new Map(), text: new Map() };
        series.set(result.target, s);
      }
      s.text.clear();

      const upValue = result.status === "down" ? 0 : 1;
      up.set(labels, upValue);
      s.gauges.up = upValue;
      s.status = STATUSES.map((st) => [st, st === result.status ? 1 : 0]);
      for (const [st, v] of s.status) status.set({ ...labels, status: st }, v);
      const failed = failedAttempts(result);
      errors.inc(labels, failed);
      s.errors += failed;
      for (const phase of TIMED_PHASES) {
        const p = result.phases[phase];
        if (!p) continue;
        duration.observe({ ...labels, phase }, p.ms / 1000);
        observeHistogram(s, phase, p.ms / 1000, buckets);
      }
      const set = (metric: Gauge<string> | undefined, key: GaugeKey, value: number | undefined): void => {
        if (!metric) return;
        setOrRemove(metric, labels, value);
        if (value === undefined) delete s.gauges[key];
        else s.gauges[key] = value;
      };
      set(readMs, "readMs", result.phases.read?.ms);
      set(writeMs, "writeMs", result.phases.write?.ms);
      set(connections, "connections", result.connections);
      set(connectionCount, "connectionCount", result.connections);
      set(lag, "lag", result.lagSeconds);
      if (result.status === "up") set(lastSuccess, "lastSuccess", (result.startedAt + result.durationMs) / 1000);
    },
  };
}

// prom-client keeps the type on each metric instance (`gauge`, `counter`, `histogram`).
function metricType(metric: object): string {
  return (metric as { type?: string }).type ?? "untyped";
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
