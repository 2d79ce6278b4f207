import { performance } from "node:perf_hooks";
import { DbHealthError } from "../contract/errors.js";
import { labelRole } from "./cycle-rules.js";
import type { CycleInput, CycleOutcome } from "./cycle-types.js";
import type { ProbeResult } from "../contract/probe-result.js";
import type { PhaseOutcome, Session, Step } from "./session.js";
import type { Phase, PhaseResult } from "../contract/types.js";

/**
 * What one probe cycle has found so far: phase outcomes, problems in phase order, attempts.
 * It also runs the phases, so that every phase gets the same treatment of the cycle's budget:
 * its deadline is the smaller of its own and the time left, and a phase with no time left does
 * not start. Once the budget ended a phase or kept one from starting, the cycle is `cut`.
 */
export class CycleRecorder {
  readonly phases: Partial<Record<Phase, PhaseResult>> = {};
  readonly problems: string[] = [];
  firstError: DbHealthError | undefined;
  attempts = 0;
  /** The budget ended a phase or left it no time: the cycle stops and says so. */
  cut = false;
  readonly startedAt = Date.now();
  /** Informative figures found on the way (connection limit, certificate expiry), in every outcome after them. */
  readonly extras: Partial<ProbeResult> = {};
  readonly #t0 = performance.now();

  constructor(
    private readonly session: Session,
    private readonly input: CycleInput,
  ) {}

  problem(text: string, error?: DbHealthError): void {
    this.problems.push(text);
    this.firstError ??= error ?? new DbHealthError("query", text, { driver: this.input.driverName });
  }

  record(phase: Phase, outcome: { ok: boolean; ms: number; error?: DbHealthError }): void {
    this.phases[phase] = outcome.ok ? { ok: true, ms: outcome.ms } : { ok: false, ms: outcome.ms, error: outcome.error?.message ?? "failed" };
  }

  /** True when the budget has no time left for anything more. */
  outOfTime(): boolean {
    if (this.input.budget && this.input.budget.left() < 1) this.cut = true;
    return this.cut;
  }

  /**
   * Runs one phase under its deadline, shortened to what the budget leaves. `undefined` when no
   * time is left to start it. With `informative`, running out of time does not cut the cycle
   * (the connection count is never a reason to degrade). `fn` is given the deadline it runs
   * under, in ms, for an adapter call that takes one (a custom check).
   */
  async timed<T>(phase: Step, configuredMs: number, fn: (signal: AbortSignal, ms: number) => Promise<T>, informative = false): Promise<PhaseOutcome<T> | undefined> {
    const ms = this.#limit(configuredMs, informative);
    if (ms === undefined) return undefined;
    const outcome = await this.session.run(phase, ms, (signal) => fn(signal, ms), this.input.signal);
    if (!informative) this.#noteCut(phase, outcome, ms, configuredMs);
    return outcome;
  }

  /**
   * Connects unless connected, as {@link timed} runs a phase; `undefined` when already connected,
   * or when no time is left (the cycle is then cut, and the ping after it does not start either).
   */
  async connect(): Promise<PhaseOutcome<void> | undefined> {
    const configured = this.input.config.connectTimeout;
    const ms = this.#limit(configured, false);
    if (ms === undefined) return undefined;
    const outcome = await this.session.ensureConnected(ms, this.input.signal);
    if (outcome) this.#noteCut("connect", outcome, ms, configured);
    return outcome;
  }

  /** The cycle's outcome; a cut cycle's main problem is the budget's reason. */
  outcome(status: ProbeResult["status"], extra: Partial<ProbeResult> = {}): CycleOutcome {
    const { input } = this;
    let error = this.firstError;
    if (this.cut && input.budget) {
      this.problems.unshift(input.budget.reason);
      error = new DbHealthError("timeout", input.budget.reason, { driver: input.driverName, ...(error ? { cause: error } : {}) });
    }
    const result: ProbeResult = {
      target: input.config.name,
      driver: input.driverName,
      endpoint: input.endpoint,
      status,
      role: labelRole(input.config, extra.role ?? input.lastRole),
      readOnly: false,
      problems: this.problems,
      phases: this.phases,
      attempts: this.attempts,
      startedAt: this.startedAt,
      durationMs: performance.now() - this.#t0,
      ...(this.problems[0] === undefined ? {} : { reason: this.problems[0] }),
      ...this.extras,
      ...extra,
    };
    return { result, ...(error ? { error } : {}) };
  }

  #limit(configuredMs: number, informative: boolean): number | undefined {
    const { budget } = this.input;
    if (!budget) return configuredMs;
    // Whole milliseconds, so a cut phase says "timed out after 2.499s", not 2.499917467s.
    const ms = Math.floor(budget.limit(configuredMs));
    if (ms >= 1) return ms;
    if (!informative) this.cut = true;
    return undefined;
  }

  // A phase whose deadline the budget shortened and that ran into that deadline was cut short
  // by the budget (its own error says "timed out after 312ms"; the cycle's reason names the budget).
  #noteCut(phase: Step, outcome: PhaseOutcome<unknown>, ms: number, configuredMs: number): void {
    if (outcome.ok || ms >= configuredMs) return;
    if (outcome.error.kind === "timeout" && outcome.error.message.startsWith(`${phase} timed out`)) this.cut = true;
  }
}
