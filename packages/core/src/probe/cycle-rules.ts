/**
 * The judgements of a probe cycle that need no I/O: when to skip the write, which thresholds
 * are exceeded, which role the labels carry, how a phase's error reads.
 */
import { DbHealthError } from "../contract/errors.js";
import type { TargetConfig } from "../config/types.js";
import type { Session } from "./session.js";
import type { Phase, PhaseResult, Role, RoleInfo } from "../contract/types.js";

/** Why the write is skipped for this node, or `undefined` when it runs. */
export function writeSkipReason(config: TargetConfig, role: Role, info: RoleInfo): string | undefined {
  if (config.writeCheck === "never") return "writeCheck=never";
  if (config.writeCheck === "always") return undefined;
  if (role === "replica") return "node is a replica";
  if (info.readOnly) return `node is read-only${info.detail ? ` (${info.detail})` : ""}`;
  return undefined;
}

/** Latency and lag limits the cycle exceeded, as problems. */
export function thresholdProblems(config: TargetConfig, phases: Partial<Record<Phase, PhaseResult>>, info: RoleInfo): string[] {
  const problems: string[] = [];
  const limits: Array<[Phase, number | undefined]> = [
    ["ping", config.thresholds.pingLatency],
    ["read", config.thresholds.readLatency],
    ["write", config.thresholds.writeLatency],
  ];
  for (const [phase, limit] of limits) {
    const p = phases[phase];
    if (limit !== undefined && p?.ok && p.ms > limit) {
      problems.push(`${phase} latency ${p.ms.toFixed(1)}ms is over the ${limit}ms threshold`);
    }
  }
  if (config.maxReplicationLag !== undefined && info.lagSeconds !== undefined && info.lagSeconds * 1000 > config.maxReplicationLag) {
    problems.push(`replication lag ${info.lagSeconds.toFixed(1)}s is over the ${config.maxReplicationLag / 1000}s limit`);
  }
  return problems;
}

/** Adapter text is reported as is: pass it through the target's redaction like errors. */
export function cleanRole(info: RoleInfo, session: Session): RoleInfo {
  return {
    ...info,
    ...(info.detail === undefined ? {} : { detail: session.clean(info.detail) }),
    ...(info.warnings === undefined ? {} : { warnings: info.warnings.map((w) => session.clean(w)) }),
  };
}

/** The role the labels carry: the configured one, else the detected (or last known) one. */
export function labelRole(config: TargetConfig, role: Role): Role {
  return config.role === "auto" ? role : config.role;
}

/** "connect failed: ECONNREFUSED"; a deadline's message already names its phase. */
export function phaseError(phase: Phase, error: DbHealthError): DbHealthError {
  if (error.message.startsWith(`${phase} timed out`) || error.message.startsWith(`${phase} aborted`)) return error;
  return new DbHealthError(error.kind, `${phase} failed: ${error.message}`, { ...(error.driver ? { driver: error.driver } : {}), cause: error.cause ?? error });
}
