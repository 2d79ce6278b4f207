/** Health of one database target after a probe cycle. */
export type Status = "up" | "degraded" | "down";

/** What a node is in its replication topology, as the driver detected it. */
export type Role = "primary" | "replica" | "unknown";

/** The steps of one probe cycle, in order. */
export type Phase = "connect" | "ping" | "role" | "write" | "read" | "connections";

/** The phases whose duration is exported in `db_probe_duration_seconds`. */
export const TIMED_PHASES = ["connect", "ping", "read", "write"] as const;

/**
 * What `DriverAdapter.role()` reports.
 *
 * @example
 * ```ts
 * const info: RoleInfo = { role: "replica", readOnly: true, lagSeconds: 0.4 };
 * ```
 */
export interface RoleInfo {
  /** Detected role of the node. `unknown` for engines without replication (SQLite). */
  role: Role;
  /** True when the node (or this session) refuses writes. */
  readOnly: boolean;
  /** Replication lag in seconds, when the node is a replica and the lag is known. */
  lagSeconds?: number;
  /** Short human explanation, e.g. `"opened with mode=ro"`. Never contains secrets. */
  detail?: string;
  /**
   * Findings that leave the node reachable but not healthy, e.g. a failed integrity check.
   * Each one makes the status `degraded` and is reported as a problem.
   */
  warnings?: string[];
}

/** Outcome of one phase of a cycle. */
export interface PhaseResult {
  /** True when the phase completed; false when it failed or timed out. */
  ok: boolean;
  /** Wall time in milliseconds (float, sub-millisecond precision). */
  ms: number;
  /** Redacted error message when `ok` is false. */
  error?: string;
}

/**
 * Outcome of one custom check (`checks:`) in a cycle.
 *
 * @example
 * ```ts
 * const backlog: CheckResult = { name: "backlog", ok: false, value: 1500, ms: 1.2, error: "1500 > max 1000" };
 * ```
 */
export interface CheckResult {
  /** The check's configured name (the `check` label). */
  name: string;
  /** True when the query ran and its value is within the configured bounds. */
  ok: boolean;
  /** The first column of the first row as a number, when the query ran and gave one. */
  value?: number;
  /** Wall time in milliseconds. */
  ms: number;
  /** Redacted reason when `ok` is false (`1500 > max 1000`, `query returned no row`…). */
  error?: string;
}
