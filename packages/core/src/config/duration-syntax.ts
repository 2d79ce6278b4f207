/**
 * Durations as users write them (`"1m30s"`, or milliseconds): parsing, formatting and the one
 * message for a bad one. No zod here: start-up and target checks load this module.
 */
import { describeValue } from "../contract/describe-value.js";
import { DbHealthError } from "../contract/errors.js";

const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;

// "ms" must come before "m" in the alternation, or "500ms" would read as 500m + "s".
const PART = /(\d+(?:\.\d*)?|\.\d+)(ms|h|m|s)/gy;
const WHOLE = /^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ms|h|m|s))+$/;

const HINT = "use a number with a unit, e.g. 500ms, 2s, 1m";

/**
 * The message for a value that is not a duration: one wording for every bad duration, so CLI,
 * env and YAML errors read the same. The value is redacted before it is cut: a DSN passed as
 * --interval must not lose the "@" that marks its password.
 *
 * @example
 * ```ts
 * invalidDurationMessage("5x"); // 'invalid duration "5x": use a number with a unit, e.g. 500ms, 2s, 1m'
 * ```
 */
export function invalidDurationMessage(value: unknown): string {
  return `invalid duration ${describeValue(value, { quote: "always" })}: ${HINT}`;
}

/**
 * Parses a duration into milliseconds. Strings use Go's syntax restricted to the units
 * `ms`, `s`, `m` and `h`, combinable in one string (`"1m30s"`); fractions are allowed (`"1.5s"`).
 * A number is taken as milliseconds. `"0"` alone is accepted, as in Go; other bare numbers
 * in strings are rejected because their unit is ambiguous.
 *
 * @throws {DbHealthError} kind `"config"` for anything else, including negative and non-finite values.
 * @example
 * ```ts
 * parseDuration("1m30s"); // 90000
 * parseDuration("1.5s");  // 1500
 * parseDuration(250);     // 250
 * ```
 */
export function parseDuration(value: string | number): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value;
    throw new DbHealthError("config", invalidDurationMessage(value));
  }
  const text = typeof value === "string" ? value.trim() : "";
  if (text === "0") return 0;
  if (!WHOLE.test(text)) throw new DbHealthError("config", invalidDurationMessage(value));

  let total = 0;
  PART.lastIndex = 0;
  for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2] as Unit];
  }
  // Round to whole nanoseconds (Go's resolution) so "1.1s" gives 1100, not 1100.0000000000002.
  const ms = Math.round(total * 1e6) / 1e6;
  if (!Number.isFinite(ms)) throw new DbHealthError("config", invalidDurationMessage(value));
  return ms;
}

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;
const NS_PER_M = 60n * NS_PER_S;
const NS_PER_H = 60n * NS_PER_M;

/** `"5"` + fraction digits with trailing zeros dropped: (1n, 500n, 3) → "1.5". */
function withFraction(whole: bigint, frac: bigint, digits: number): string {
  if (frac === 0n) return whole.toString();
  return `${whole}.${frac.toString().padStart(digits, "0").replace(/0+$/, "")}`;
}

/**
 * Formats milliseconds compactly, in a form {@link parseDuration} reads back: below one second
 * in `ms`, otherwise hours, minutes and (fractional) seconds with zero parts left out.
 * Precision is one nanosecond. Negative values get a leading `-`; non-finite ones are
 * returned as `String(ms)` so that formatting never throws inside an error message.
 *
 * @example
 * ```ts
 * formatDuration(500);   // "500ms"
 * formatDuration(90000); // "1m30s"
 * formatDuration(1.5);   // "1.5ms"
 * ```
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  // Integer nanoseconds avoid float noise such as "1m0.30000000000000004s".
  const ns = BigInt(Math.round(ms * 1e6));
  if (ns === 0n) return "0s";
  if (ns < NS_PER_S) return `${withFraction(ns / NS_PER_MS, ns % NS_PER_MS, 6)}ms`;

  const h = ns / NS_PER_H;
  const m = (ns % NS_PER_H) / NS_PER_M;
  const rest = ns % NS_PER_M;
  let out = "";
  if (h > 0n) out += `${h}h`;
  if (m > 0n) out += `${m}m`;
  if (rest > 0n) out += `${withFraction(rest / NS_PER_S, rest % NS_PER_S, 9)}s`;
  return out;
}
