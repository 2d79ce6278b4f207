/**
 * The custom checks of a cycle (`checks:`): each query in configuration order through the
 * adapter's read-only `check()`, under its own deadline cut to the cycle's budget like every
 * phase, and its first value judged against the check's bounds.
 */
import { describeValue } from "../contract/describe-value.js";
import { DbHealthError } from "../contract/errors.js";
import type { CustomCheckConfig } from "../config/types.js";
import type { CheckResult } from "../contract/types.js";
import type { CycleRecorder } from "./cycle-recorder.js";
import type { CycleInput } from "./cycle-types.js";
import type { Session } from "./session.js";

/**
 * Runs the target's checks and records a problem (`check backlog: 1500 > max 1000`) for each
 * one that fails: the cycle is then `degraded`, never `down`. Stops at the first check the
 * budget cut short (the cycle is then `cut`), after a check whose deadline dropped the
 * connection and after one the server timed out (the checks after it wait for the next cycle).
 * `undefined` when none ran.
 */
export async function runChecks(session: Session, input: CycleInput, cycle: CycleRecorder): Promise<CheckResult[] | undefined> {
  const { checks } = input.config;
  const results: CheckResult[] = [];
  const check = session.adapter.check?.bind(session.adapter);
  for (const c of checks) {
    if (!check) {
      fail(cycle, results, c, 0, new DbHealthError("contract", `the ${input.driverName} driver cannot run checks`, { driver: input.driverName }));
      continue;
    }
    if (!session.connected || cycle.outOfTime()) break;
    const outcome = await cycle.timed("check", c.timeout, (signal, ms) => check(c.query, signal, ms));
    if (!outcome) break;
    if (!outcome.ok) {
      const error = new DbHealthError(outcome.error.kind, reasonOf(outcome.error), { ...(outcome.error.driver ? { driver: outcome.error.driver } : {}), cause: outcome.error });
      // Cut short by the budget: the cycle's reason is the budget's; the check still shows its own.
      if (cycle.cut) {
        results.push({ name: c.name, ok: false, ms: outcome.ms, error: error.message });
        break;
      }
      fail(cycle, results, c, outcome.ms, error);
      // A timeout the server reported (PostgreSQL's statement_timeout, MySQL's max_execution_time,
      // a lock wait) kept the connection, but the server is slow: the later checks wait for the
      // next cycle, as after a missed deadline, so that 32 slow checks cost one timeout, not 32.
      if (outcome.error.kind === "timeout") break;
      continue;
    }
    const judged = judge(outcome.value, c);
    if (judged.error === undefined) results.push({ name: c.name, ok: true, value: judged.value!, ms: outcome.ms });
    else {
      const error = new DbHealthError("query", session.clean(judged.error), { driver: input.driverName });
      fail(cycle, results, c, outcome.ms, error, judged.value);
    }
  }
  return results.length === 0 ? undefined : results;
}

function fail(cycle: CycleRecorder, results: CheckResult[], c: CustomCheckConfig, ms: number, error: DbHealthError, value?: number): void {
  results.push({ name: c.name, ok: false, ...(value === undefined ? {} : { value }), ms, error: error.message });
  cycle.problem(`check ${c.name}: ${error.message}`, new DbHealthError(error.kind, `check ${c.name}: ${error.message}`, { ...(error.driver ? { driver: error.driver } : {}), cause: error }));
}

/** "check timed out after 2s" → "timed out after 2s": the problem names the check already. */
function reasonOf(error: DbHealthError): string {
  return /^check (timed out|aborted)/.test(error.message) ? error.message.slice("check ".length) : error.message;
}

/**
 * The check's value as a number and, when it fails, why: no row, NULL or something that is no
 * number, or a value outside `min`/`max`.
 *
 * @example
 * ```ts
 * judge("1500", { name: "backlog", query: "…", max: 1000, timeout: 2000 }); // { value: 1500, error: "1500 > max 1000" }
 * judge(undefined, check);                                                 // { error: "query returned no row" }
 * ```
 */
export function judge(raw: unknown, c: Pick<CustomCheckConfig, "min" | "max">): { value?: number; error?: string } {
  const value = toNumber(raw);
  if (typeof value === "string") return { error: value };
  if (c.max !== undefined && value > c.max) return { value, error: `${value} > max ${c.max}` };
  if (c.min !== undefined && value < c.min) return { value, error: `${value} < min ${c.min}` };
  return { value };
}

/** A number as engines send numeric types as text: PostgreSQL's bigint and numeric, MySQL's DECIMAL. */
const DECIMAL = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** The first column as a number, or why it is none (a string). */
function toNumber(raw: unknown): number | string {
  if (raw === undefined) return "query returned no row";
  if (raw === null) return "query returned NULL, not a number";
  if (typeof raw === "boolean") return raw ? 1 : 0;
  if (typeof raw === "bigint") return Number(raw);
  if (typeof raw === "number") return Number.isFinite(raw) ? raw : `query returned ${raw}, not a finite number`;
  // Numeric strings: what PostgreSQL's bigint and numeric, and MySQL's DECIMAL, arrive as.
  // Decimal notation only (no hex, no "Infinity"); the text itself is never repeated in the
  // reason, which reaches /health, /readyz and the logs: a query may return anything.
  if (typeof raw === "string") {
    const n = DECIMAL.test(raw) ? Number(raw) : Number.NaN;
    return Number.isFinite(n) ? n : `query returned a string of ${raw.length} character${raw.length === 1 ? "" : "s"}, not a number`;
  }
  if (raw instanceof Date) return "query returned a date, not a number (select its epoch seconds instead)";
  if (raw instanceof Uint8Array) return "query returned bytes, not a number";
  return `query returned ${describeValue(raw)}, not a number`;
}
