import type { CheckResult, Phase, PhaseResult, Role, Status } from "./types.js";

/**
 * Everything one probe cycle found out about one target. Safe to log or serve: every string
 * in it is redacted.
 *
 * @example
 * ```ts
 * const r = await driver.probe();
 * if (r.status !== "up") console.error(`${r.target}: ${r.status}: ${r.reason}`);
 * ```
 */
export interface ProbeResult {
  /** The target's configured name (the `target` label). */
  target: string;
  /** Engine name (the `db_name` label). */
  driver: string;
  /** Safe description of the DSN, without password or parameters. */
  endpoint: string;
  status: Status;
  /** Role used for labels: the configured role, else the detected one, else the last known. */
  role: Role;
  /**
   * The role the node itself reported in this cycle's role phase, whatever was configured;
   * absent when that phase did not run or failed. Cluster views count primaries by it.
   */
  detectedRole?: Role;
  /** Whether the node refused writes when asked. */
  readOnly: boolean;
  /** The main problem when not up (first of `problems`). */
  reason?: string;
  /** Every problem found, in phase order. */
  problems: string[];
  /** Per-phase outcome; a phase that did not run is absent. */
  phases: Partial<Record<Phase, PhaseResult>>;
  /** Why the write phase was skipped, when it was (`node is a replica`, `writeCheck=never`…). */
  writeSkipped?: string;
  /** Connect/ping attempts made this cycle (1 when the first one worked). */
  attempts: number;
  /** Client connections on the database, when the driver can count them. */
  connections?: number;
  /** The server's limit on client connections, when the driver can read it. */
  connectionsMax?: number;
  /** When the connection uses TLS: the server certificate's `notAfter`, milliseconds since the epoch. */
  certificateExpiresAt?: number;
  /** The outcome of each configured custom check, in configuration order (absent when none ran). */
  checks?: CheckResult[];
  /** Replication lag in seconds (replicas only). */
  lagSeconds?: number;
  /** Cycle start, milliseconds since the epoch. */
  startedAt: number;
  /** Cycle wall time in milliseconds. */
  durationMs: number;
  /**
   * Set on the answer to a `probe()` whose time budget ended while the cycle it joined was still
   * running: `down` with the budget's reason, no phases. It is no cycle's result: the cycle goes
   * on and its own result becomes `lastResult()`; do not record this one as the target's state.
   */
  unfinished?: true;
}

/**
 * Connect/ping attempts of a cycle that failed: every attempt of a `down` cycle, all but the
 * last otherwise. This is what `db_connection_errors_total` counts.
 *
 * @example
 * ```ts
 * errors += failedAttempts(result);
 * ```
 */
export function failedAttempts(result: Pick<ProbeResult, "status" | "attempts">): number {
  return result.status === "down" ? result.attempts : Math.max(0, result.attempts - 1);
}
