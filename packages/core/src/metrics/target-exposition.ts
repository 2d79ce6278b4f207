/**
 * One target's series as Prometheus text, kept beside prom-client's own storage so that a
 * scrape joins cached per-target lines instead of formatting every sample again. prom-client
 * formats about 3 µs per sample: 300 ms for the ~100,000 samples of 1,000 targets, on every
 * scrape. Here a target's lines are built once after each of its cycles, in the exact format
 * prom-client prints (label order, number format, escaping); metrics.test.ts compares the two.
 */
import type { Phase } from "../contract/types.js";

/** The series of one target, as metrics.ts updates them; `undefined` = no such series. */
export interface TargetSeries {
  /** `db_name="…",db_role="…",target="…"`, escaped. */
  labelText: string;
  gauges: Partial<Record<GaugeKey, number>>;
  status: Array<[string, number]>;
  errors: number;
  /** Per phase, in first-observed order: non-cumulative bucket counts (+Inf last), sum, count. */
  histogram: Map<Phase, { counts: number[]; sum: number; count: number }>;
  /** Cached text per family key; cleared by every update. */
  text: Map<string, string>;
  /** The custom checks the target's last cycle ran, by name (`db_check_*`); absent when none. */
  checks?: Map<string, CheckSeries>;
}

/** The plain per-target gauges. */
export type GaugeKey = "up" | "readMs" | "writeMs" | "connections" | "connectionCount" | "lag" | "lastSuccess" | "connectionsMax" | "certificateExpiry";

/** `name="value"` pairs with prom-client's escaping (backslash, newline, double quote). */
export function formatLabels(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`)
    .join(",");
}

/** A sample value as prom-client prints it. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "Nan";
  if (!Number.isFinite(value)) return value < 0 ? "-Inf" : "+Inf";
  return `${value}`;
}

/** `# HELP` and `# TYPE` lines as prom-client prints them. */
export function familyHeader(name: string, help: string, type: string): string {
  const esc = (s: string): string => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
  return `# HELP ${esc(name)} ${esc(help)}\n# TYPE ${esc(name)} ${type}`;
}

/** A gauge's one line for this target, or "" when the target has no such series. */
export function gaugeLines(name: string, s: TargetSeries, key: GaugeKey): string {
  const v = s.gauges[key];
  return v === undefined ? "" : `${name}{${s.labelText}} ${formatValue(v)}`;
}

/** The state-set gauge: one line per status. */
export function statusLines(name: string, s: TargetSeries): string {
  return s.status.map(([status, v]) => `${name}{${s.labelText},status="${status}"} ${formatValue(v)}`).join("\n");
}

/**
 * The `name_bucket{le="…",` start of each bound's line: the same for every target and phase, so
 * a histogram family makes them once and {@link histogramLines} only appends.
 */
export function bucketHeads(name: string, bounds: readonly number[]): string[] {
  return bounds.map((b) => `${name}_bucket{le="${b}",`);
}

/** Cumulative buckets, `+Inf`, `_sum` and `_count` per phase, `le` first as prom-client does. */
export function histogramLines(name: string, s: TargetSeries, heads: readonly string[]): string {
  const lines: string[] = [];
  for (const [phase, h] of s.histogram) {
    const tail = `${s.labelText},phase="${phase}"} `;
    let acc = 0;
    for (let i = 0; i < heads.length; i++) {
      acc += h.counts[i]!;
      lines.push(heads[i]! + tail + acc);
    }
    lines.push(`${name}_bucket{le="+Inf",${tail}${h.count}`, `${name}_sum{${tail}${formatValue(h.sum)}`, `${name}_count{${tail}${h.count}`);
  }
  return lines.join("\n");
}

/** Adds one observation the way prom-client's Histogram does (first bound ≥ value). */
export function observeHistogram(s: TargetSeries, phase: Phase, value: number, bounds: readonly number[]): void {
  let h = s.histogram.get(phase);
  if (!h) {
    h = { counts: new Array<number>(bounds.length).fill(0), sum: 0, count: 0 };
    s.histogram.set(phase, h);
  }
  const i = bounds.findIndex((b) => value <= b);
  if (i >= 0) h.counts[i]! += 1;
  h.sum += value;
  h.count += 1;
}

/** One custom check's samples: `db_check_value` (when it gave a number), `db_check_up`, `db_check_duration_seconds`. */
export interface CheckSeries {
  value?: number;
  up: number;
  seconds: number;
}

/** One `db_check_*` family's lines for this target: one per check that has the sample. */
export function checkLines(name: string, s: TargetSeries, key: keyof CheckSeries): string {
  const lines: string[] = [];
  for (const [check, c] of s.checks ?? []) {
    const v = c[key];
    if (v !== undefined) lines.push(`${name}{${s.labelText},${formatLabels({ check })}} ${formatValue(v)}`);
  }
  return lines.join("\n");
}
