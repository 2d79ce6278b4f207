import { sleep } from "./deadline.js";
import { DbHealthError } from "../contract/errors.js";
import { healthToken, holdsToken, isCrowded } from "../health-table/health-token.js";
import { MIN_USEFUL_ATTEMPT_MS, type CycleBudget } from "./cycle-budget.js";
import { CycleRecorder } from "./cycle-recorder.js";
import { runChecks } from "./run-checks.js";
import { cleanRole, phaseError, thresholdProblems, writeSkipReason } from "./cycle-rules.js";
import { noteCertificateExpiry, noteConnectionLimit, recheckCertificate } from "./capacity.js";
import type { TargetConfig } from "../config/types.js";
import type { ProbeResult } from "../contract/probe-result.js";
import type { Session } from "./session.js";
import type { Role, RoleInfo } from "../contract/types.js";

import type { CycleInput, CycleOutcome } from "./cycle-types.js";

/**
 * One probe cycle: connect (if needed) → ping, retried; then role → write → read → connections
 * → the custom checks, each under its own deadline. Never throws: every failure becomes part of the result.
 *
 * `down` when connect/ping fail after all retries; `degraded` when reachable but a check or
 * threshold failed; `up` otherwise. With a budget the whole cycle fits in it: each deadline is
 * cut to the time left, a retry is made only when time is left for it to be useful, and a cycle
 * the budget cut short is `down` (never reached) or `degraded` with the budget's reason.
 */
export async function runCycle(session: Session, input: CycleInput): Promise<CycleOutcome> {
  const { config } = input;
  const cycle = new CycleRecorder(session, input);
  if (session.closed) {
    cycle.problem("driver is closed", new DbHealthError("connect", "driver is closed", { driver: input.driverName }));
    return cycle.outcome("down");
  }
  await recheckCertificate(session);
  if (!(await reach(session, input, cycle))) return cycle.outcome("down");
  noteCertificateExpiry(session, cycle);
  if (input.scope === "reachability") return cycle.outcome("up");

  // Role.
  let info: RoleInfo = { role: "unknown", readOnly: false };
  const role = await cycle.timed("role", config.readTimeout, (s) => session.adapter.role(s));
  if (role) cycle.record("role", role);
  if (!role || cycle.cut) return cycle.outcome("degraded");
  if (role.ok) info = cleanRole(role.value, session);
  else cycle.problem(`role check failed: ${role.error.message}`, role.error);
  for (const warning of info.warnings ?? []) cycle.problem(warning);
  const detected = role.ok ? info.role : input.lastRole;
  if (config.role !== "auto" && role.ok && info.role !== "unknown" && info.role !== config.role) {
    cycle.problem(`configured as ${config.role} but the node is a ${info.role}`);
  }
  const effectiveRole = config.role === "auto" ? detected : config.role;
  const skip = role.ok ? writeSkipReason(config, effectiveRole, info) : config.writeCheck === "always" ? undefined : "role unknown (the role check failed)";
  const found = (): Partial<ProbeResult> => ({
    role: effectiveRole,
    ...(role.ok ? { detectedRole: info.role } : {}),
    readOnly: info.readOnly,
    ...(skip ? { writeSkipped: skip } : {}),
    ...(info.lagSeconds === undefined ? {} : { lagSeconds: info.lagSeconds }),
  });

  // Write (role-aware) then read back and verify.
  if (info.readOnly && effectiveRole === "primary" && config.writeCheck !== "never") {
    cycle.problem(`primary is read-only${info.detail ? ` (${info.detail})` : ""}`, new DbHealthError("readonly", "primary is read-only", { driver: input.driverName }));
  }
  if (!(await writeAndVerify(session, input, cycle, !skip))) return cycle.outcome("degraded", found());

  // Connection count: informative, never a reason to degrade (nor to report the budget).
  let connections: number | undefined;
  const adapterConnections = session.adapter.connections?.bind(session.adapter);
  if (adapterConnections && session.connected) {
    const count = await cycle.timed("connections", config.readTimeout, adapterConnections, true);
    if (count) cycle.record("connections", count);
    if (count?.ok) connections = count.value;
  }
  // The server's limit beside the count (db_connections_max): informative too, and only with a
  // count (a limit without one is no saturation, and a failing server gets no extra statement).
  if (connections !== undefined) await noteConnectionLimit(session, cycle, config);

  // Custom checks (`checks:`): read-only queries, each under its own deadline; a failure degrades.
  const checks = await runChecks(session, input, cycle);
  const extra = { ...found(), ...(connections === undefined ? {} : { connections }), ...(checks ? { checks } : {}) };
  if (cycle.cut) return cycle.outcome("degraded", extra);

  for (const text of thresholdProblems(config, cycle.phases, info)) cycle.problem(text);
  return cycle.outcome(cycle.problems.length === 0 ? "up" : "degraded", extra);
}

/**
 * Write (when `write`) and read back, verifying that the row holds this prober's token. When it
 * does not but holds other probers' tokens only (probers sharing a probe id wrote more often in
 * between than the row keeps), the write and read run once more: in a burst of writers a second
 * round is most unlikely to be crowded out again, while a lost or stale write fails both rounds.
 * False when the budget cut the cycle short.
 */
async function writeAndVerify(session: Session, input: CycleInput, cycle: CycleRecorder, write: boolean): Promise<boolean> {
  const { config } = input;
  for (let round = 1; ; round++) {
    let token: string | undefined;
    if (write && session.connected) {
      const candidate = healthToken();
      const written = await cycle.timed("write", config.writeTimeout, (s) => session.adapter.write(candidate, s));
      if (written) cycle.record("write", written);
      if (!written || cycle.cut) return false;
      if (written.ok) token = candidate;
      else cycle.problem(`write check failed: ${written.error.message}`, written.error);
    }
    if (!session.connected) return true;
    const read = await cycle.timed("read", config.readTimeout, (s) => session.adapter.read(s));
    if (read) cycle.record("read", read);
    if (!read || cycle.cut) return false;
    if (!read.ok) {
      cycle.problem(`read check failed: ${read.error.message}`, read.error);
      return true;
    }
    // The row keeps the latest tokens: another prober with this probe id may have written since
    // our write, and that is no failure (see health-token.ts).
    if (token === undefined || holdsToken(read.value, token)) return true;
    if (round === 1 && isCrowded(read.value)) continue;
    const message = isCrowded(read.value)
      ? `read-back returned a different token than was written, twice: the row held only other probers' latest tokens (probers sharing probe id "${config.probeId}" write faster than it keeps; give each prober its own probe id)`
      : "read-back returned a different token than was written";
    const error = new DbHealthError("verify", message, { driver: input.driverName });
    cycle.record("read", { ok: false, ms: read.ms, error });
    cycle.problem(error.message, error);
    return true;
  }
}

/**
 * Connect (if needed) and ping, retried after `retryInterval`; true once the ping answered.
 * Under a budget a retry is made only when, after its pause, at least MIN_USEFUL_ATTEMPT_MS is
 * left. A failure is recorded as the cycle's problem unless the budget cut the cycle short
 * (then it follows the budget's reason).
 */
async function reach(session: Session, input: CycleInput, cycle: CycleRecorder): Promise<boolean> {
  const { config, signal, budget } = input;
  let lastError: DbHealthError | undefined;
  while (!signal?.aborted && !cycle.outOfTime()) {
    cycle.attempts++;
    const connected = await cycle.connect();
    if (connected) cycle.record("connect", connected);
    if (!connected || connected.ok) {
      const ping = await cycle.timed("ping", config.readTimeout, (s) => session.adapter.ping(s));
      if (!ping) break;
      cycle.record("ping", ping);
      if (ping.ok) return true;
      lastError = phaseError("ping", ping.error);
      session.drop();
    } else {
      lastError = phaseError("connect", connected.error);
      delete cycle.phases.ping;
    }
    if (cycle.cut || cycle.attempts > config.maxRetries) break;
    if (budget && budget.left() - config.retryInterval < MIN_USEFUL_ATTEMPT_MS) break;
    await sleep(config.retryInterval, signal);
  }
  if (lastError) cycle.problem(lastError.message, lastError);
  else if (!cycle.cut) cycle.problem("probe aborted", new DbHealthError("timeout", "probe aborted", { driver: input.driverName }));
  return false;
}
