/**
 * The rules of one target, written out by hand: field rules, bounds, unknown keys with
 * suggestions and the cross-field rules. Messages name the rule and the value (redacted, then cut
 * short) so that one line says what to fix. Problems come in the order of the fields in
 * {@link TARGET_KEYS}, each field's own before those of the fields inside it, then unknown keys,
 * then the rules between fields: the order the zod schema of schema.ts (the reference these rules
 * are tested against, see validate.test.ts) reports them in. No zod here: it cost every
 * `--once` ~8 ms to load it and build its schemas.
 */
import { describeValue } from "../contract/describe-value.js";
import { errorMessage } from "../contract/errors.js";
import { parseDsn, type ParsedDsn } from "../dsn/dsn.js";
import { formatDuration, invalidDurationMessage, parseDuration } from "./duration-syntax.js";
import { unknownKey } from "./suggest.js";
import { DEFAULTS, TARGET_KEYS, type TargetConfig } from "./types.js";

/** A target or check name: 1–63 of `A-Z a-z 0-9 _ . : -`, starting with a letter or digit. */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/;
/** A table or schema name: 1–63 letters, digits or `_`, not starting with a digit. */
export const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** "Printable": no control, format, surrogate, private-use or line/paragraph separator characters. */
export const PROBE_ID_RE = /^[^\p{C}\p{Zl}\p{Zp}]{1,128}$/u;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
// Every duration has an upper bound below 2^31-1 ms: beyond it setTimeout fires after 1 ms, and
// a probe loop sleeping `interval` would spin. 24 days is the last whole day below that limit.
/** Upper bound of connectTimeout, readTimeout, writeTimeout, a check's timeout and the latency thresholds. */
export const MAX_TIMEOUT = 10 * MINUTE;
/** Upper bound of retryInterval. */
export const MAX_RETRY_INTERVAL = 10 * MINUTE;
/** Upper bound of interval. */
export const MAX_INTERVAL = 24 * HOUR;
/** Upper bound of maxReplicationLag and pruneAfter. */
export const MAX_LONG = 24 * 24 * HOUR;
/** Lower bound of pruneAfter. */
export const MIN_PRUNE_AFTER = MINUTE;
/** Lower bound of interval. */
export const MIN_INTERVAL = 100;

/** Most checks one target may have: each is a query per cycle, run one after another. */
export const MAX_CHECKS = 32;
/** Longest query text, in characters: a check is one statement, not a script. */
export const MAX_QUERY_LENGTH = 10_000;
/** A check's name, the `check` label: what Prometheus label values and log keys take without escaping. */
export const CHECK_NAME_RE = /^[a-z][a-z0-9_]{0,62}$/;

/** The keys of `thresholds`. */
export const THRESHOLD_KEYS: readonly string[] = ["pingLatency", "readLatency", "writeLatency"];
/** The keys a check may have, for unknown-key suggestions. */
export const CHECK_KEYS: readonly string[] = ["name", "query", "min", "max", "timeout"];

/** One rule broken, at a path inside the target. */
export interface Problem {
  path: Array<string | number>;
  message: string;
  /** Other fields a rule between fields compared this one with (`interval` for `pruneAfter`). */
  related?: string[];
}

/** A target's options once every field is valid: defaults applied except `name` and `probeId`. */
export type ValidSettings = Omit<TargetConfig, "name" | "probeId" | "thresholds" | "checks"> &
  Partial<Pick<TargetConfig, "name" | "probeId" | "thresholds">> & {
    checks: Array<{ name: string; query: string; min?: number; max?: number; timeout?: number }>;
  };

/** What {@link validateTarget} found. */
export interface TargetValidation {
  /** Every problem of the target, fields first, then unknown keys, then the rules between fields. */
  problems: Problem[];
  /** The options with defaults applied, when every field is valid (a rule between fields may still fail). */
  settings?: ValidSettings;
  /** The DSN parsed, whenever it is valid. */
  dsn?: ParsedDsn;
}

const DSN_HINT = "the database to probe, e.g. postgres://user@host:5432/db";
const TARGET_EXAMPLE = 'an object like { dsn: "postgres://user@host/db" }';
const THRESHOLDS_EXAMPLE = 'an object like { readLatency: "500ms" }';
const CHECK_EXAMPLE = '{ name: backlog, query: "SELECT count(*) FROM jobs", max: 1000 }';
const NAME_RULE = '1–63 letters, digits, "_", ".", ":" or "-", starting with a letter or digit';
const CHECK_NAME_RULE = 'use 1–63 lowercase letters, digits or "_", starting with a letter';
const ROLES = ["primary", "replica", "auto"] as const;
const WRITE_CHECKS = ["auto", "always", "never"] as const;
const CONNECTIONS = ["persistent", "per-cycle"] as const;

/** Bounds of a duration; the rule's wording is made once, on first use. */
interface Bounds {
  min: number;
  minInclusive: boolean;
  max: number;
  rule?: string;
}
const bounds = (min: number, minInclusive: boolean, max: number): Bounds => ({ min, minInclusive, max });
const TIMEOUT = bounds(0, false, MAX_TIMEOUT);
const RETRY_INTERVAL = bounds(0, true, MAX_RETRY_INTERVAL);
const INTERVAL = bounds(MIN_INTERVAL, true, MAX_INTERVAL);
const LONG = bounds(0, false, MAX_LONG);
const PRUNE_AFTER = bounds(MIN_PRUNE_AFTER, true, MAX_LONG);

/** The problems found so far, in the order they were found. */
class Found {
  readonly problems: Problem[] = [];
  add(path: Array<string | number>, message: string): void {
    this.problems.push({ path, message });
  }
}

/** Message for a value of the wrong type; `undefined` is a missing required value. */
function mustBe(what: string, value: unknown): string {
  return value === undefined ? `is required (${what})` : `must be ${what}, got ${describeValue(value)}`;
}

/** A plain object (not null, not a list): what the rules take for a target, `thresholds` or a check. */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A duration in milliseconds within `b`, or undefined (and a problem at `path`). */
function duration(found: Found, path: Array<string | number>, value: unknown, b: Bounds): number | undefined {
  // Numbers must be finite: NaN and ±Infinity are no duration (zod's z.number() refuses them too).
  if (typeof value !== "string" && !(typeof value === "number" && Number.isFinite(value))) {
    found.add(path, invalidDurationMessage(value));
    return undefined;
  }
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch {
    found.add(path, invalidDurationMessage(value));
    return undefined;
  }
  if ((b.minInclusive ? ms >= b.min : ms > b.min) && ms <= b.max) return ms;
  found.add(path, `must be ${ruleOf(b)}, got ${formatDuration(ms)}`);
  return undefined;
}

function ruleOf(b: Bounds): string {
  if (b.rule === undefined) {
    const low = b.minInclusive ? (b.min === 0 ? "" : `at least ${formatDuration(b.min)}`) : `more than ${formatDuration(b.min)}`;
    b.rule = [low, `at most ${formatDuration(b.max)}`].filter(Boolean).join(" and ");
  }
  return b.rule;
}

/** A string matching `re`, or undefined (and a problem: `mustBe("a string")` or `invalid(value)`). */
function matching(found: Found, path: Array<string | number>, value: unknown, re: RegExp, invalid: (shown: string) => string): string | undefined {
  if (typeof value !== "string") {
    found.add(path, mustBe("a string", value));
    return undefined;
  }
  if (re.test(value)) return value;
  found.add(path, invalid(describeValue(value)));
  return undefined;
}

function oneOf<T extends string>(found: Found, path: Array<string | number>, value: unknown, values: readonly T[]): T | undefined {
  if (values.includes(value as T)) return value as T;
  found.add(path, mustBe(`one of ${values.map((v) => `"${v}"`).join(", ")}`, value));
  return undefined;
}

/** A problem per key of `record` that is not in `known`, with a suggestion; inherited enumerable keys count too. */
function unknownKeys(found: Found, path: Array<string | number>, record: Record<string, unknown>, known: ReadonlySet<string>, list: readonly string[]): void {
  for (const key in record) {
    if (!known.has(key)) found.add([...path, key], unknownKey(key, list));
  }
}
const TARGET_KEY_SET: ReadonlySet<string> = new Set<string>(TARGET_KEYS);
const THRESHOLD_KEY_SET: ReadonlySet<string> = new Set(THRESHOLD_KEYS);
const CHECK_KEY_SET: ReadonlySet<string> = new Set(CHECK_KEYS);

/**
 * Sets `key` on `out` the way an optional field is kept: present in the input (even as
 * `undefined`), present in the result.
 */
function keep(out: Record<string, unknown>, input: Record<string, unknown>, key: string, value: unknown): void {
  if (key in input) out[key] = value;
}

/**
 * Checks one target: every field, unknown keys (with a "did you mean"), the custom checks and the
 * rules between fields, all problems at once. The DSN is parsed once and returned whenever it is
 * valid, even when another field is not. Values in messages go through describeValue (wrap the
 * call in withSecrets to hide a password pasted into another field).
 *
 * @example
 * ```ts
 * const { problems, settings } = validateTarget({ dsn: "file:app.db", interval: "30s", intervall: 1 });
 * problems; // [{ path: ["intervall"], message: 'unknown option; did you mean "interval"?' }]
 * settings; // undefined (a field is wrong); without "intervall", settings.interval is 30000
 * ```
 */
export function validateTarget(input: unknown): TargetValidation {
  const found = new Found();
  if (!isObject(input)) {
    found.add([], mustBe(TARGET_EXAMPLE, input));
    return { problems: found.problems };
  }
  const out: Record<string, unknown> = {};

  const dsnValue = input["dsn"];
  let dsn: ParsedDsn | undefined;
  if (typeof dsnValue !== "string") {
    found.add(["dsn"], dsnValue === undefined ? `is required: ${DSN_HINT}` : `must be a string, got ${describeValue(dsnValue)}`);
  } else if (dsnValue.trim() === "") {
    found.add(["dsn"], `must not be empty: give ${DSN_HINT}`);
  } else {
    // The whole parse, not only the scheme: a bad port or ADO string is reported with every other
    // problem instead of surfacing later when the driver is created.
    try {
      dsn = parseDsn(dsnValue);
    } catch (err) {
      // parseDsn's message already shows the DSN redacted; errorMessage() redacts once more in
      // case anything else was thrown.
      found.add(["dsn"], errorMessage(err));
    }
  }
  keep(out, input, "dsn", dsnValue);

  const optional = (key: string, check: (value: unknown) => unknown): void => {
    const value = input[key];
    keep(out, input, key, value === undefined ? undefined : check(value));
  };
  const defaulted = (key: string, fallback: unknown, check: (value: unknown) => unknown): unknown => {
    const value = input[key];
    const result = value === undefined ? fallback : check(value);
    out[key] = result;
    return result;
  };

  optional("name", (v) => matching(found, ["name"], v, NAME_RE, (shown) => `${shown} is not a valid name: use ${NAME_RULE}`));
  defaulted("role", DEFAULTS.role, (v) => oneOf(found, ["role"], v, ROLES));
  optional("cluster", (v) => matching(found, ["cluster"], v, NAME_RE, (shown) => `${shown} is not a valid cluster name: use ${NAME_RULE}`));
  defaulted("connectTimeout", DEFAULTS.connectTimeout, (v) => duration(found, ["connectTimeout"], v, TIMEOUT));
  const readTimeout = defaulted("readTimeout", DEFAULTS.readTimeout, (v) => duration(found, ["readTimeout"], v, TIMEOUT)) as number | undefined;
  const writeTimeout = defaulted("writeTimeout", DEFAULTS.writeTimeout, (v) => duration(found, ["writeTimeout"], v, TIMEOUT)) as number | undefined;
  defaulted("maxRetries", DEFAULTS.maxRetries, (v) => {
    if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 100) return v;
    found.add(["maxRetries"], mustBe("a whole number from 0 to 100", v));
    return undefined;
  });
  defaulted("retryInterval", DEFAULTS.retryInterval, (v) => duration(found, ["retryInterval"], v, RETRY_INTERVAL));
  const interval = defaulted("interval", DEFAULTS.interval, (v) => duration(found, ["interval"], v, INTERVAL)) as number | undefined;
  defaulted("createHealthTable", DEFAULTS.createHealthTable, (v) => {
    if (typeof v === "boolean") return v;
    found.add(["createHealthTable"], mustBe("true or false", v));
    return undefined;
  });
  defaulted("writeCheck", DEFAULTS.writeCheck, (v) => oneOf(found, ["writeCheck"], v, WRITE_CHECKS));
  defaulted("connection", DEFAULTS.connection, (v) => oneOf(found, ["connection"], v, CONNECTIONS));
  // The latencies that are valid, for the rules between fields, even when `thresholds` has problems.
  const latencies: Record<string, number | undefined> = {};
  optional("thresholds", (v) => {
    if (!isObject(v)) {
      found.add(["thresholds"], mustBe(THRESHOLDS_EXAMPLE, v));
      return undefined;
    }
    const thresholds: Record<string, unknown> = {};
    for (const key of THRESHOLD_KEYS) {
      const value = v[key];
      const ms = value === undefined ? undefined : duration(found, ["thresholds", key], value, TIMEOUT);
      latencies[key] = ms;
      keep(thresholds, v, key, ms);
    }
    unknownKeys(found, ["thresholds"], v, THRESHOLD_KEY_SET, THRESHOLD_KEYS);
    return thresholds;
  });
  optional("maxReplicationLag", (v) => duration(found, ["maxReplicationLag"], v, LONG));
  optional("probeId", (v) => matching(found, ["probeId"], v, PROBE_ID_RE, (shown) => `${shown} is not a valid probe id: use 1–128 printable characters`));
  defaulted("healthTable", DEFAULTS.healthTable, (v) => matching(found, ["healthTable"], v, IDENT_RE, identifierMessage));
  optional("schema", (v) => matching(found, ["schema"], v, IDENT_RE, identifierMessage));
  const pruneAfter = defaulted("pruneAfter", DEFAULTS.pruneAfter, (v) => duration(found, ["pruneAfter"], v, PRUNE_AFTER)) as number | undefined;
  defaulted("checks", [], (v) => checkList(found, v));
  unknownKeys(found, [], input, TARGET_KEY_SET, TARGET_KEYS);

  const valid = found.problems.length === 0;
  const problems = found.problems;
  problems.push(...crossFieldProblems({ readTimeout, writeTimeout, interval, pruneAfter, thresholds: latencies }));
  return { problems, ...(valid ? { settings: out as unknown as ValidSettings } : {}), ...(dsn ? { dsn } : {}) };
}

function identifierMessage(shown: string): string {
  return `${shown} is not a valid identifier: use 1–63 letters, digits or "_", not starting with a digit`;
}

/** The `checks:` list: each check's fields, `min` at most `max`, at most {@link MAX_CHECKS}, names unique. */
function checkList(found: Found, value: unknown): unknown[] | undefined {
  if (!Array.isArray(value)) {
    found.add(["checks"], mustBe(`a list of checks, each like ${CHECK_EXAMPLE}`, value));
    return undefined;
  }
  const list: unknown[] = [];
  for (let i = 0; i < value.length; i++) list.push(check(found, i, value[i]));
  if (value.length > MAX_CHECKS) found.add(["checks"], `must hold at most ${MAX_CHECKS} checks, got ${value.length}: each runs in every cycle`);
  // Names are compared even when a check has other problems (or an invalid name), so that every
  // problem is named at once.
  const first = new Map<string, number>();
  for (let i = 0; i < value.length; i++) {
    const name = (value[i] as { name?: unknown } | null | undefined)?.name;
    if (typeof name !== "string") continue;
    const seen = first.get(name);
    if (seen === undefined) first.set(name, i);
    else found.add(["checks", i, "name"], `${describeValue(name)} is already the name of checks[${seen}]; give each check its own name`);
  }
  return list;
}

/** One check of the list, as an object with its fields checked, or the value itself when it is no object. */
function check(found: Found, i: number, item: unknown): unknown {
  if (!isObject(item)) {
    found.add(["checks", i], mustBe(`an object like ${CHECK_EXAMPLE}`, item));
    return item;
  }
  const out: Record<string, unknown> = {};
  const name = item["name"];
  if (typeof name !== "string") found.add(["checks", i, "name"], mustBe(`a name: ${CHECK_NAME_RULE}`, name));
  else if (!CHECK_NAME_RE.test(name)) found.add(["checks", i, "name"], `${describeValue(name)} is not a valid check name: ${CHECK_NAME_RULE}`);
  keep(out, item, "name", name);

  const query = item["query"];
  if (typeof query !== "string") {
    found.add(["checks", i, "query"], mustBe("one SQL statement whose first column is a number", query));
  } else {
    // Both rules apply: a long query of blanks gets both messages.
    if (query.trim() === "") {
      found.add(["checks", i, "query"], "must not be empty: give one SQL statement whose first column is a number, e.g. SELECT count(*) FROM jobs");
    }
    if (query.length > MAX_QUERY_LENGTH) {
      found.add(
        ["checks", i, "query"],
        `must be at most ${MAX_QUERY_LENGTH.toLocaleString("en-US")} characters, got ${query.length.toLocaleString("en-US")}: a check is one statement`,
      );
    }
  }
  keep(out, item, "query", query);

  for (const key of ["min", "max"] as const) {
    const bound = item[key];
    if (bound !== undefined && !(typeof bound === "number" && Number.isFinite(bound))) {
      found.add(["checks", i, key], mustBe("a finite number", bound));
    }
    keep(out, item, key, bound);
  }
  const timeout = item["timeout"];
  keep(out, item, "timeout", timeout === undefined ? undefined : duration(found, ["checks", i, "timeout"], timeout, TIMEOUT));
  unknownKeys(found, ["checks", i], item, CHECK_KEY_SET, CHECK_KEYS);
  // Also when another field is wrong: two numbers the wrong way round are a problem of their own.
  const { min, max } = item;
  if (typeof min === "number" && typeof max === "number" && min > max) {
    found.add(["checks", i, "max"], `${max} is less than min (${min}): no value could pass; swap them or fix one`);
  }
  return out;
}

/** The fields the cross-field rules compare; a field that failed on its own is left out. */
export interface CrossFields {
  readTimeout?: number | undefined;
  writeTimeout?: number | undefined;
  interval?: number | undefined;
  pruneAfter?: number | undefined;
  thresholds?: { pingLatency?: number | undefined; readLatency?: number | undefined; writeLatency?: number | undefined } | undefined;
}

/**
 * Rules between fields: a latency threshold at or above its timeout could never trigger, and a
 * pruneAfter under two intervals would delete the rows of live peers that probe as often.
 *
 * @example
 * ```ts
 * crossFieldProblems({ readTimeout: 1000, thresholds: { readLatency: 2000 } }); // [{ path: ["thresholds", "readLatency"], … }]
 * ```
 */
export function crossFieldProblems(v: CrossFields): Problem[] {
  const rules = [
    ["pingLatency", "readTimeout", v.readTimeout],
    ["readLatency", "readTimeout", v.readTimeout],
    ["writeLatency", "writeTimeout", v.writeTimeout],
  ] as const;
  const problems: Problem[] = [];
  for (const [key, timeoutKey, limit] of rules) {
    const value = v.thresholds?.[key];
    if (value === undefined || limit === undefined || value < limit) continue;
    problems.push({
      path: ["thresholds", key],
      related: [timeoutKey],
      message: `${formatDuration(value)} must be less than ${timeoutKey} (${formatDuration(limit)}): the phase times out before the threshold is reached; lower the threshold or raise ${timeoutKey}`,
    });
  }
  if (v.pruneAfter !== undefined && v.interval !== undefined && v.pruneAfter < 2 * v.interval) {
    problems.push({
      path: ["pruneAfter"],
      related: ["interval"],
      message: `${formatDuration(v.pruneAfter)} must be at least twice interval (${formatDuration(v.interval)}): rows of live probers checking that often would be deleted; raise pruneAfter or lower interval`,
    });
  }
  return problems;
}

/**
 * A valid explicit target name, or undefined: what duplicate detection compares, even when the
 * target's other fields are wrong.
 *
 * @example
 * ```ts
 * validName("orders-db"); // "orders-db"
 * validName("-x");        // undefined
 * ```
 */
export function validName(value: unknown): string | undefined {
  return typeof value === "string" && NAME_RE.test(value) ? value : undefined;
}

/**
 * Fills each check's missing timeout with the target's `readTimeout`.
 *
 * @example
 * ```ts
 * withCheckTimeouts({ readTimeout: 2000, checks: [{ name: "a", query: "SELECT 1" }] }).checks[0].timeout; // 2000
 * ```
 */
export function withCheckTimeouts<T extends { readTimeout: number; checks: ReadonlyArray<{ timeout?: number | undefined }> }>(
  settings: T,
): Omit<T, "checks"> & { checks: Array<T["checks"][number] & { timeout: number }> } {
  return { ...settings, checks: settings.checks.map((c) => ({ ...c, timeout: c.timeout ?? settings.readTimeout })) };
}
