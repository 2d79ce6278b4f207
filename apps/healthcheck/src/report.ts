import type { ClusterView, ProbeResult } from "@alfred/db-health-core";
import { clusterLine } from "./cluster.js";

/** Exit codes of `--once`. 2 is never used: Docker reserves it. */
export const EXIT = { ok: 0, unhealthy: 1, config: 3 } as const;

/**
 * Exit code for a set of results: 0 when every target is up (or degraded with `degradedOk`).
 *
 * @example
 * ```ts
 * process.exitCode = exitCodeFor(results, false);
 * ```
 */
export function exitCodeFor(results: readonly ProbeResult[], degradedOk: boolean): number {
  const healthy = results.every((r) => r.status === "up" || (degradedOk && r.status === "degraded"));
  return healthy ? EXIT.ok : EXIT.unhealthy;
}

const ms = (r: ProbeResult, phase: keyof ProbeResult["phases"]): string => {
  const p = r.phases[phase];
  if (!p) return "-";
  return `${p.ms < 10 ? p.ms.toFixed(2) : p.ms.toFixed(1)}${p.ok ? "" : "!"}`;
};

/**
 * A readable table: target, engine, role, status, phase latencies in ms, reason.
 * A `!` after a latency marks a phase that failed. Then one line per cluster, when there are
 * any. When a target ran custom checks, a second table follows with one line per check: its
 * name, ok or FAIL, value, milliseconds and reason.
 *
 * @example
 * ```ts
 * io.stdout.write(formatText(results, clusters));
 * ```
 */
export function formatText(results: readonly ProbeResult[], clusters: readonly ClusterView[] = []): string {
  return formatTable(results, clusters) + formatChecks(results);
}

function formatTable(results: readonly ProbeResult[], clusters: readonly ClusterView[]): string {
  const header = ["TARGET", "ENGINE", "ROLE", "STATUS", "CONNECT", "PING", "WRITE", "READ", "REASON"];
  const rows = results.map((r) => [
    r.target,
    r.driver,
    r.role,
    r.status.toUpperCase(),
    ms(r, "connect"),
    ms(r, "ping"),
    r.writeSkipped ? "skip" : ms(r, "write"),
    ms(r, "read"),
    r.reason ?? (r.writeSkipped ? `write skipped: ${r.writeSkipped}` : ""),
  ]);
  return [...columns(header, rows), "latencies in ms; ! = phase failed", ...clusters.map(clusterLine)].join("\n") + "\n";
}

/** The custom checks' table, or "" when no target ran any. */
function formatChecks(results: readonly ProbeResult[]): string {
  const rows = results.flatMap((r) =>
    (r.checks ?? []).map((c) => [r.target, c.name, c.ok ? "ok" : "FAIL", c.value === undefined ? "-" : String(c.value), c.ms < 10 ? c.ms.toFixed(2) : c.ms.toFixed(1), c.error ?? ""]),
  );
  if (rows.length === 0) return "";
  return `\n${columns(["TARGET", "CHECK", "OK", "VALUE", "MS", "REASON"], rows).join("\n")}\n`;
}

/** Rows padded into columns; the last column is not padded. */
function columns(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}

/**
 * The custom checks of a result as log fields: name, ok, value and reason of each.
 *
 * @example
 * ```ts
 * log.log("warn", "status", { target: r.target, ...checkFields(r) }); // checks: [{ name: "backlog", ok: false, value: 1500, reason: "1500 > max 1000" }]
 * ```
 */
export function checkFields(result: ProbeResult): { checks?: Array<{ name: string; ok: boolean; value?: number; reason?: string }> } {
  if (!result.checks) return {};
  return {
    checks: result.checks.map((c) => ({ name: c.name, ok: c.ok, ...(c.value === undefined ? {} : { value: c.value }), ...(c.error === undefined ? {} : { reason: c.error }) })),
  };
}

/** The JSON document of `--once --format json`: `clusters` only when a target names one. */
export function formatJson(results: readonly ProbeResult[], clusters: readonly ClusterView[] = []): string {
  return `${JSON.stringify({ status: overall(results), targets: results, ...(clusters.length > 0 ? { clusters } : {}) }, null, 2)}\n`;
}

function overall(results: readonly ProbeResult[]): ProbeResult["status"] {
  if (results.some((r) => r.status === "down")) return "down";
  if (results.some((r) => r.status === "degraded")) return "degraded";
  return "up";
}
