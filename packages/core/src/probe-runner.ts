import { sleep } from "./deadline.js";
import { DbHealthError } from "./errors.js";
import { healthToken, holdsToken } from "./health-token.js";
import type { TargetConfig } from "./config.js";
import type { ProbeResult } from "./probe-result.js";
import type { Session } from "./_internal/session.js";
import type { Phase, PhaseResult, Role, RoleInfo } from "./types.js";

/** What a cycle needs besides the session. */
export interface CycleInput {
  config: TargetConfig;
  driverName: string;
  endpoint: string;
  /** Last role seen for this target, kept across down cycles so labels stay stable. */
  lastRole: Role;
  /** `reachability` stops after connect + ping (for `Driver.connect()`/`ping()`). @default "full" */
  scope?: "reachability" | "full";
  signal?: AbortSignal;
}

/** A cycle's result and the error behind its main problem, for `Driver` methods that throw. */
export interface CycleOutcome {
  result: ProbeResult;
  error?: DbHealthError;
}

/**
 * One probe cycle: connect (if needed) → ping, retried; then role → write → read → connections,
 * each under its own deadline. Never throws: every failure becomes part of the result.
 *
 * `down` when connect/ping fail after all retries; `degraded` when reachable but a check or
 * threshold failed; `up` otherwise.
 */
export async function runCycle(session: Session, input: CycleInput): Promise<CycleOutcome> {
  const { config, signal } = input;
  const startedAt = Date.now();
  const t0 = performance.now();
  const phases: Partial<Record<Phase, PhaseResult>> = {};
  const problems: string[] = [];
  let firstError: DbHealthError | undefined;
  const problem = (text: string, error?: DbHealthError): void => {
    problems.push(text);
    firstError ??= error ?? new DbHealthError("query", text, { driver: input.driverName });
  };
  const record = (phase: Phase, outcome: { ok: boolean; ms: number; error?: DbHealthError }): void => {
    phases[phase] = outcome.ok ? { ok: true, ms: outcome.ms } : { ok: false, ms: outcome.ms, error: outcome.error?.message ?? "failed" };
  };
  const result = (status: ProbeResult["status"], extra: Partial<ProbeResult>): CycleOutcome => ({
    result: {
      target: config.name,
      driver: input.driverName,
      endpoint: input.endpoint,
      status,
      role: labelRole(config, extra.role ?? input.lastRole),
      readOnly: false,
      problems,
      phases,
      attempts,
      startedAt,
      durationMs: performance.now() - t0,
      ...(problems[0] === undefined ? {} : { reason: problems[0] }),
      ...extra,
    },
    ...(firstError ? { error: firstError } : {}),
  });

  // Reachability: connect and ping, retried.
  let attempts = 0;
  if (session.closed) {
    problem("driver is closed", new DbHealthError("connect", "driver is closed", { driver: input.driverName }));
    return result("down", {});
  }
  let reachable = false;
  let lastError: DbHealthError | undefined;
  while (attempts <= config.maxRetries && !signal?.aborted) {
    attempts++;
    const connected = await session.ensureConnected(config.connectTimeout, signal);
    if (connected) record("connect", connected);
    if (!connected || connected.ok) {
      const ping = await session.run("ping", config.readTimeout, (s) => session.adapter.ping(s), signal);
      record("ping", ping);
      if (ping.ok) {
        reachable = true;
        break;
      }
      lastError = phaseError("ping", ping.error);
      session.drop();
    } else {
      lastError = phaseError("connect", connected.error);
      delete phases.ping;
    }
    if (attempts <= config.maxRetries) await sleep(config.retryInterval, signal);
  }
  if (!reachable) {
    problem(lastError?.message ?? "probe aborted", lastError ?? new DbHealthError("timeout", "probe aborted", { driver: input.driverName }));
    return result("down", {});
  }
  if (input.scope === "reachability") return result("up", {});

  // Role.
  let info: RoleInfo = { role: "unknown", readOnly: false };
  const role = await session.run("role", config.readTimeout, (s) => session.adapter.role(s), signal);
  record("role", role);
  if (role.ok) info = cleanRole(role.value, session);
  else problem(`role check failed: ${role.error.message}`, role.error);
  for (const warning of info.warnings ?? []) problem(warning);
  const detected = role.ok ? info.role : input.lastRole;
  if (config.role !== "auto" && role.ok && info.role !== "unknown" && info.role !== config.role) {
    problem(`configured as ${config.role} but the node is a ${info.role}`);
  }
  const effectiveRole = config.role === "auto" ? detected : config.role;

  // Write (role-aware) then read back and verify.
  const skip = role.ok ? writeSkipReason(config, effectiveRole, info) : config.writeCheck === "always" ? undefined : "role unknown (the role check failed)";
  if (info.readOnly && effectiveRole === "primary" && config.writeCheck !== "never") {
    problem(`primary is read-only${info.detail ? ` (${info.detail})` : ""}`, new DbHealthError("readonly", "primary is read-only", { driver: input.driverName }));
  }
  let token: string | undefined;
  if (!skip && session.connected) {
    const candidate = healthToken();
    const write = await session.run("write", config.writeTimeout, (s) => session.adapter.write(candidate, s), signal);
    record("write", write);
    if (write.ok) token = candidate;
    else problem(`write check failed: ${write.error.message}`, write.error);
  }
  if (session.connected) {
    const read = await session.run("read", config.readTimeout, (s) => session.adapter.read(s), signal);
    // The row keeps the latest few tokens: another prober with this probe id may have written
    // since our write, and that is no failure (see health-token.ts).
    if (read.ok && token !== undefined && !holdsToken(read.value, token)) {
      const error = new DbHealthError("verify", "read-back returned a different token than was written", { driver: input.driverName });
      record("read", { ok: false, ms: read.ms, error });
      problem(error.message, error);
    } else {
      record("read", read);
      if (!read.ok) problem(`read check failed: ${read.error.message}`, read.error);
    }
  }

  // Connection count: informative, never a reason to degrade.
  let connections: number | undefined;
  const adapterConnections = session.adapter.connections?.bind(session.adapter);
  if (adapterConnections && session.connected) {
    const count = await session.run("connections", config.readTimeout, adapterConnections, signal);
    record("connections", count);
    if (count.ok) connections = count.value;
  }

  for (const text of thresholdProblems(config, phases, info)) problem(text);
  return result(problems.length === 0 ? "up" : "degraded", {
    role: effectiveRole,
    readOnly: info.readOnly,
    ...(skip ? { writeSkipped: skip } : {}),
    ...(connections === undefined ? {} : { connections }),
    ...(info.lagSeconds === undefined ? {} : { lagSeconds: info.lagSeconds }),
  });
}

function writeSkipReason(config: TargetConfig, role: Role, info: RoleInfo): string | undefined {
  if (config.writeCheck === "never") return "writeCheck=never";
  if (config.writeCheck === "always") return undefined;
  if (role === "replica") return "node is a replica";
  if (info.readOnly) return `node is read-only${info.detail ? ` (${info.detail})` : ""}`;
  return undefined;
}

function thresholdProblems(config: TargetConfig, phases: Partial<Record<Phase, PhaseResult>>, info: RoleInfo): string[] {
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

// Adapter text is reported as is: pass it through the target's redaction like errors.
function cleanRole(info: RoleInfo, session: Session): RoleInfo {
  return {
    ...info,
    ...(info.detail === undefined ? {} : { detail: session.clean(info.detail) }),
    ...(info.warnings === undefined ? {} : { warnings: info.warnings.map((w) => session.clean(w)) }),
  };
}

function labelRole(config: TargetConfig, role: Role): Role {
  return config.role === "auto" ? role : config.role;
}

// "connect failed: ECONNREFUSED"; a deadline's message already names its phase.
function phaseError(phase: Phase, error: DbHealthError): DbHealthError {
  if (error.message.startsWith(`${phase} timed out`) || error.message.startsWith(`${phase} aborted`)) return error;
  return new DbHealthError(error.kind, `${phase} failed: ${error.message}`, { ...(error.driver ? { driver: error.driver } : {}), cause: error.cause ?? error });
}
