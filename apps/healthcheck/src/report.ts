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
 * A `!` after a latency marks a phase that failed. Then one line per cluster, when there are any.
 */
export function formatText(results: readonly ProbeResult[], clusters: readonly ClusterView[] = []): string {
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
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(header), ...rows.map(line), "latencies in ms; ! = phase failed", ...clusters.map(clusterLine)].join("\n") + "\n";
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
