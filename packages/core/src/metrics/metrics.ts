import type { Counter, Gauge, Histogram } from "prom-client";
import { failedAttempts, type ProbeResult } from "../contract/probe-result.js";
import { redact } from "../redact/redact.js";
import { TIMED_PHASES, type Status } from "../contract/types.js";
import { BASE, STATES, loadPromClient, registerCheckFamilies, registerFamilies, type BaseLabels } from "./families.js";
import type { CheckResult } from "../contract/types.js";
import type { DbHealthMetrics, MetricsOptions } from "./types.js";
import {
  familyHeader,
  formatLabels,
  gaugeLines,
  bucketHeads,
  histogramLines,
  observeHistogram,
  checkLines,
  type CheckSeries,
  statusLines,
  type GaugeKey,
  type TargetSeries,
} from "./target-exposition.js";

export type { DbHealthMetrics, DeclaredTarget, MetricsOptions } from "./types.js";

// Bounds of db_probe_duration_seconds (docs/metrics.md, "Buckets"): 1 ms, 5 ms and 25 ms for
// healthy phases; 0.1 s and 0.2 s, the read and write thresholds of the alert rules (exact, not
// interpolated); 0.5 s; 2 s and 5 s, the default deadlines of ping/read/write and of connect (a
// phase at its deadline is told apart from one that overran it). Eight bounds: 4.1 instead of
// 8.2 KB of /metrics per target; the CLI's --duration-buckets fine restores the fourteen.
const DEFAULT_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.2, 0.5, 2, 5];
const DURATION = "db_probe_duration_seconds";

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
  const { Registry } = loadPromClient();
  const registry = options.registry ?? new Registry();
  const legacy = options.legacyNames ?? true;
  // prom-client keeps one bucket per distinct bound; so does render().
  const buckets = [...new Set(options.buckets ?? DEFAULT_BUCKETS)].sort((a, b) => a - b);

  const { up, readMs, writeMs, connections, connectionCount, errors, duration, status, lag, lastSuccess, connectionsMax, certificateExpiry } = registerFamilies(registry, {
    legacy,
    buckets,
    runtimeMetrics: options.runtimeMetrics === true,
    ...(options.buildInfo ? { buildInfo: options.buildInfo } : {}),
  });

  // The one store of the per-target series: render() formats them (and keeps each target's text
  // until its next update). prom-client's metrics stay registered for what reads the registry
  // itself (registry.metrics(), getSingleMetric().get(), an OpenMetrics registry): each is filled
  // from this store when it is read (`collect`, see syncFrom), not on every cycle. Keeping both
  // up to date cost 30 µs and 6 KB per target and cycle (1,000 targets: 6 MB of heap).
  type Series = TargetSeries & { labels: BaseLabels; observed: boolean };
  const series = new Map<string, Series>();
  const gauge = (key: GaugeKey) => (name: string, s: TargetSeries) => gaugeLines(name, s, key);
  const durationHeads = bucketHeads(DURATION, buckets);
  const families = new Map<object, { name: string; lines: (name: string, s: TargetSeries) => string }>([
    [up, { name: "db_up", lines: gauge("up") }],
    [connections, { name: "db_connections", lines: gauge("connections") }],
    [errors, { name: "db_connection_errors_total", lines: (name, s) => `${name}{${s.labelText}} ${s.errors}` }],
    [duration, { name: DURATION, lines: (name, s) => histogramLines(name, s, durationHeads) }],
    [status, { name: "db_status", lines: statusLines }],
    [lag, { name: "db_replication_lag_seconds", lines: gauge("lag") }],
    [lastSuccess, { name: "db_probe_last_success_timestamp_seconds", lines: gauge("lastSuccess") }],
  ]);
  if (readMs) families.set(readMs, { name: "db_read_latency_ms", lines: gauge("readMs") });
  if (writeMs) families.set(writeMs, { name: "db_write_latency_ms", lines: gauge("writeMs") });
  if (connectionCount) families.set(connectionCount, { name: "db_connection_count", lines: gauge("connectionCount") });
  families.set(connectionsMax, { name: "db_connections_max", lines: gauge("connectionsMax") });
  families.set(certificateExpiry, { name: "db_tls_certificate_expiry_timestamp_seconds", lines: gauge("certificateExpiry") });

  // Custom checks: one series per target and check, for the checks its last cycle ran.
  const checkFamilies = registerCheckFamilies(registry);
  families.set(checkFamilies.value, { name: "db_check_value", lines: (name, s) => checkLines(name, s, "value") });
  families.set(checkFamilies.up, { name: "db_check_up", lines: (name, s) => checkLines(name, s, "up") });
  families.set(checkFamilies.duration, { name: "db_check_duration_seconds", lines: (name, s) => checkLines(name, s, "seconds") });
  /** The checks of the result replace the target's: a check that did not run this cycle loses its series. */
  const observeChecks = (s: Series, checks: readonly CheckResult[] | undefined): void => {
    const next = new Map<string, CheckSeries>();
    for (const c of checks ?? []) next.set(redact(c.name), { ...(c.value === undefined ? {} : { value: c.value }), up: c.ok ? 1 : 0, seconds: c.ms / 1000 });
    if (next.size > 0) s.checks = next;
    else delete s.checks;
  };

  // prom-client's side, filled when something reads it through the registry.
  const eachSeries = (fill: (s: Series) => void) => (): void => {
    for (const s of series.values()) fill(s);
  };
  syncFrom(up, eachSeries((s) => s.gauges.up !== undefined && up.set(s.labels, s.gauges.up)));
  for (const [metric, key] of [[readMs, "readMs"], [writeMs, "writeMs"], [connections, "connections"], [connectionCount, "connectionCount"], [lag, "lag"], [lastSuccess, "lastSuccess"], [connectionsMax, "connectionsMax"], [certificateExpiry, "certificateExpiry"]] as const) {
    if (!metric) continue;
    syncFrom(metric, eachSeries((s) => s.gauges[key] !== undefined && metric.set(s.labels, s.gauges[key])));
  }
  syncFrom(errors, eachSeries((s) => errors.inc(s.labels, s.errors)));
  syncFrom(status, eachSeries((s) => s.status.forEach(([st, v]) => status.set({ ...s.labels, status: st }, v))));
  syncFrom(duration, () => fillHistogram(duration, buckets, [...series.values()].flatMap((s) => [...s.histogram].map(([phase, h]) => ({ labels: { ...s.labels, phase }, ...h })))));
  for (const key of ["value", "up", "seconds"] as const) {
    const metric = key === "seconds" ? checkFamilies.duration : checkFamilies[key];
    syncFrom(metric, eachSeries((s) => s.checks?.forEach((c, check) => c[key] !== undefined && metric.set({ ...s.labels, check }, c[key]))));
  }

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
  // `# HELP` and `# TYPE` of each family, made once (a /probe answer carries a dozen of them),
  // under the family's own name: prom-client renames a counter's metric object (no `_total`)
  // when an OpenMetrics registry renders it.
  const headers = new Map<object, string>();
  const headerOf = (metric: { name: string; help: string }, type: string): string => {
    let header = headers.get(metric);
    if (header === undefined) headers.set(metric, (header = familyHeader(families.get(metric)!.name, metric.help, type)));
    return header;
  };
  // Both renders collect lines into one array that is joined once: one copy of the text, where
  // joining each family first made two (and a /probe answer, measured as bytes, a third).
  const familyLines = (metric: { name: string; help: string }, type: string, into: string[]): void => {
    into.push(headerOf(metric, type));
    for (const s of series.values()) {
      const text = targetLines(metric, s);
      if (text) into.push(text);
    }
  };

  /**
   * The target's series under these labels, its cached text cleared; a change of labels (the
   * role, the engine) first removes every series under the old ones. Label values are redacted
   * by the caller once, when a target's labels are set, not on every scrape.
   */
  const seriesFor = (target: string, labels: BaseLabels): Series => {
    const previous = series.get(target);
    if (previous && (previous.labels.db_name !== labels.db_name || previous.labels.db_role !== labels.db_role)) forget(target);
    syncDefaultLabels();
    let s = series.get(target);
    if (!s) {
      s = { labels, labelText: labelTextFor(labels), observed: false, gauges: {}, status: [], errors: 0, histogram: new Map(), text: new Map() };
      series.set(target, s);
    }
    s.text.clear();
    return s;
  };
  const setStatus = (s: Series, current: Status | "unknown"): void => {
    s.status = STATES.map((st) => [st, st === current ? 1 : 0]);
  };

  const forget = (target: string): void => {
    series.delete(target);
  };

  return {
    registry,
    forget,
    async render() {
      // An OpenMetrics registry (a caller's own) has another format: prom-client renders it.
      if (registry.contentType !== Registry.PROMETHEUS_CONTENT_TYPE) return redact(await registry.metrics());
      syncDefaultLabels();
      const lines: string[] = [];
      for (const metric of registry.getMetricsAsArray()) {
        // An empty line between families: joined with "\n", it is the blank line between them.
        if (lines.length > 0) lines.push("");
        if (families.has(metric)) familyLines(metric, metricType(metric), lines);
        else lines.push(redact(await registry.getSingleMetricAsString(metric.name)));
      }
      if (lines.length === 0) return "\n";
      lines.push("");
      return lines.join("\n");
    },
    renderTarget(target) {
      syncDefaultLabels();
      const s = series.get(target);
      if (!s) return "";
      const lines: string[] = [];
      for (const metric of registry.getMetricsAsArray()) {
        if (!families.has(metric)) continue;
        const text = targetLines(metric, s);
        if (text) lines.push(headerOf(metric, metricType(metric)), text);
      }
      if (lines.length === 0) return "";
      // The closing newline as a last, empty line: join() then makes one flat string, which the
      // HTTP layer measures and writes without copying it again first.
      lines.push("");
      return lines.join("\n");
    },
    declare({ target, driver, role = "unknown" }) {
      if (series.get(target)?.observed) return;
      const s = seriesFor(target, { db_name: redact(driver), db_role: role, target: redact(target) });
      // db_up 0, db_status unknown, and db_connection_errors_total at 0 (a new series' count):
      // present from the start, so that rate() and increase() see the first failures.
      s.gauges.up = 0;
      setStatus(s, "unknown");
    },
    setStatus(target, current) {
      const s = series.get(target);
      if (!s?.observed) return;
      s.text.clear();
      setStatus(s, current);
    },
    observe(result) {
      checkValues(result);
      const s = seriesFor(result.target, { db_name: redact(result.driver), db_role: result.role, target: redact(result.target) });
      s.observed = true;
      s.gauges.up = result.status === "down" ? 0 : 1;
      setStatus(s, result.status);
      s.errors += failedAttempts(result);
      for (const phase of TIMED_PHASES) {
        const p = result.phases[phase];
        if (p) observeHistogram(s, phase, p.ms / 1000, buckets);
      }
      const set = (metric: Gauge<string> | undefined, key: GaugeKey, value: number | undefined): void => {
        if (!metric) return;
        if (value === undefined) delete s.gauges[key];
        else s.gauges[key] = value;
      };
      set(readMs, "readMs", result.phases.read?.ms);
      set(writeMs, "writeMs", result.phases.write?.ms);
      set(connections, "connections", result.connections);
      set(connectionCount, "connectionCount", result.connections);
      set(lag, "lag", result.lagSeconds);
      if (result.status === "up") set(lastSuccess, "lastSuccess", (result.startedAt + result.durationMs) / 1000);
      observeChecks(s, result.checks);
      // Capacity and TLS. A target that is down keeps its last certificate expiry: a certificate
      // that expired fails the handshake, and its alert must not resolve because of that.
      set(connectionsMax, "connectionsMax", result.connectionsMax);
      const expiry = result.certificateExpiresAt;
      if (expiry !== undefined || result.status !== "down") set(certificateExpiry, "certificateExpiry", expiry === undefined ? undefined : expiry / 1000);
    },
  };
}

// prom-client keeps the type on each metric instance (`gauge`, `counter`, `histogram`).
function metricType(metric: object): string {
  return (metric as { type?: string }).type ?? "untyped";
}

/**
 * What prom-client refused (it threw from `set()` and `observe()`), refused before `observe()`
 * changes anything: a value that is no number would otherwise break every later read of the
 * registry, and prom-client's throw left a target half updated.
 */
function checkValues(result: ProbeResult): void {
  for (const phase of TIMED_PHASES) {
    const ms = result.phases[phase]?.ms;
    if (ms !== undefined && !Number.isFinite(ms)) throw new TypeError(`Value is not a valid number: ${phase} ms ${String(ms)}`);
  }
  const gauge = (name: string, value: unknown): void => {
    if (value !== undefined && typeof value !== "number") throw new TypeError(`Value is not a valid number: ${name} ${String(value)}`);
  };
  gauge("connections", result.connections);
  gauge("lagSeconds", result.lagSeconds);
  gauge("connectionsMax", result.connectionsMax);
  gauge("certificateExpiresAt", result.certificateExpiresAt);
}

/**
 * Makes prom-client fill `metric` from our store each time it is read (its `collect` hook, run
 * by `get()`, hence by `registry.metrics()`): emptied, then `fill` sets every series.
 */
function syncFrom(metric: Gauge<string> | Counter<string> | Histogram<string>, fill: () => void): void {
  (metric as { collect?: () => void }).collect = () => {
    metric.reset();
    fill();
  };
}

/**
 * Sets a histogram's series from counts kept elsewhere: prom-client has `observe()` only, so each
 * series is created with `zero()` and its counts written into it. Rows with the same label values
 * (two target names that redact alike) are one series to prom-client, as `observe()` made them:
 * their counts are added up. Relies on prom-client's storage (`hashMap`, whose entries keep the
 * labels object `zero()` was given, and `bucketValues` keyed by bound); metrics.test.ts compares
 * what prom-client prints with render() and so guards it.
 */
function fillHistogram(histogram: Histogram<string>, bounds: readonly number[], rows: Array<{ labels: Record<string, string>; counts: number[]; sum: number; count: number }>): void {
  const merged = new Map<string, { labels: Record<string, string>; counts: number[]; sum: number; count: number }>();
  for (const row of rows) {
    const key = JSON.stringify(Object.entries(row.labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    const into = merged.get(key);
    if (!into) merged.set(key, { ...row, counts: [...row.counts] });
    else {
      row.counts.forEach((c, i) => (into.counts[i]! += c));
      into.sum += row.sum;
      into.count += row.count;
    }
  }
  const byLabels = new Map<object, { counts: number[]; sum: number; count: number }>();
  for (const row of merged.values()) {
    histogram.zero(row.labels);
    byLabels.set(row.labels, row);
  }
  const entries = Object.values((histogram as unknown as { hashMap: Record<string, { labels: object; bucketValues: Record<number, number>; sum: number; count: number }> }).hashMap);
  for (const entry of entries) {
    const row = byLabels.get(entry.labels);
    if (!row) continue;
    bounds.forEach((bound, b) => (entry.bucketValues[bound] = row.counts[b]!));
    entry.sum = row.sum;
    entry.count = row.count;
  }
}
