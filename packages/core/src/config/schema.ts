/**
 * The zod schema of one target: field rules, bounds and the cross-field rules. Messages name
 * the rule and the value (redacted, then cut short) so that one line says what to fix.
 *
 * Core's own checks do not use it: validate.ts holds the same rules written out by hand (zod
 * cost every `--once` ~8 ms), and validate.test.ts holds the two to the same problems and
 * results. Nothing at runtime imports this module, and it is not built into dist/: it is the
 * reference for those tests and for code that composes zod schemas (config.ts exports it).
 */
import * as z from "zod";
import type * as zc from "zod/v4/core";
import { describeValue } from "../contract/describe-value.js";
import { unknownKey } from "./suggest.js";
import { DEFAULTS } from "./types.js";
import { parseDsn, type ParsedDsn } from "../dsn/dsn.js";
import { durationSchema } from "./duration.js";
import { formatDuration } from "./duration-syntax.js";
import { IDENT_RE, MAX_INTERVAL, MAX_LONG, MAX_RETRY_INTERVAL, MAX_TIMEOUT, MIN_INTERVAL, MIN_PRUNE_AFTER, NAME_RE, PROBE_ID_RE, crossFieldProblems } from "./validate.js";
import { errorMessage } from "../contract/errors.js";
import { customChecksSchema } from "./checks-schema.js";

// Where the DSN rule leaves each DSN it parsed, while a check that wants them runs (see
// keepingParsedDsns). Module state for the same reason as describe-value's secrets: zod's
// refinements take no argument through which a caller could pass anything.
let parsedDsns: Map<string, ParsedDsn> | undefined;

/**
 * Runs `fn` (synchronous schema checks) and hands it the DSNs the schema parsed meanwhile, by
 * their text, so that a caller needing the parse does not parse each DSN a second time.
 *
 * @example
 * ```ts
 * const parsed = keepingParsedDsns((seen) => (baseSchema.safeParse(input), seen.get(input.dsn)));
 * ```
 */
export function keepingParsedDsns<T>(fn: (seen: ReadonlyMap<string, ParsedDsn>) => T): T {
  const outer = parsedDsns;
  const seen = new Map<string, ParsedDsn>();
  parsedDsns = seen;
  try {
    return fn(seen);
  } finally {
    parsedDsns = outer;
  }
}

/** Message for a value of the wrong type. */
const mustBe = (what: string) => (issue: zc.$ZodRawIssue) =>
  issue.input === undefined ? `is required (${what})` : `must be ${what}, got ${describeValue(issue.input)}`;

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: mustBe(`one of ${values.map((v) => `"${v}"`).join(", ")}`) });

const identifier = z.string({ error: mustBe("a string") }).regex(IDENT_RE, {
  error: (i) => `${describeValue(i.input)} is not a valid identifier: use 1–63 letters, digits or "_", not starting with a digit`,
});

/** A duration within bounds, with a message that names the bounds in duration syntax. */
function durationIn(bounds: { min: number; minInclusive?: boolean; max: number }) {
  const { min, minInclusive = false, max } = bounds;
  const low = minInclusive ? (min === 0 ? "" : `at least ${formatDuration(min)}`) : `more than ${formatDuration(min)}`;
  const rule = [low, `at most ${formatDuration(max)}`].filter(Boolean).join(" and ");
  return durationSchema.refine((ms) => (minInclusive ? ms >= min : ms > min) && ms <= max, {
    error: (i) => `must be ${rule}, got ${formatDuration(Number(i.input))}`,
  });
}

const timeout = durationIn({ min: 0, max: MAX_TIMEOUT });
const threshold = durationIn({ min: 0, max: MAX_TIMEOUT });

const DSN_HINT = "the database to probe, e.g. postgres://user@host:5432/db";

// The whole parse, not only the scheme: a bad port or ADO string is reported with every other
// problem instead of surfacing later when the driver is created.
const dsnField = z
  .string({ error: (i) => (i.input === undefined ? `is required: ${DSN_HINT}` : `must be a string, got ${describeValue(i.input)}`) })
  .superRefine((dsn, ctx) => {
    if (dsn.trim() === "") {
      ctx.addIssue({ code: "custom", message: `must not be empty: give ${DSN_HINT}` });
      return;
    }
    try {
      const parsed = parseDsn(dsn);
      parsedDsns?.set(dsn, parsed);
    } catch (err) {
      // parseDsn's message already shows the DSN redacted; errorMessage() redacts once more in
      // case anything else was thrown.
      ctx.addIssue({ code: "custom", message: errorMessage(err) });
    }
  });

/** The fields of `thresholds`. */
export const thresholdsShape = {
  pingLatency: threshold.optional(),
  readLatency: threshold.optional(),
  writeLatency: threshold.optional(),
};

/** The fields of a target, each with its own rule and default. */
export const shape = {
  dsn: dsnField,
  name: z
    .string({ error: mustBe("a string") })
    .regex(NAME_RE, {
      error: (i) =>
        `${describeValue(i.input)} is not a valid name: use 1–63 letters, digits, "_", ".", ":" or "-", starting with a letter or digit`,
    })
    .optional(),
  role: oneOf(["primary", "replica", "auto"]).default(DEFAULTS.role),
  cluster: z
    .string({ error: mustBe("a string") })
    .regex(NAME_RE, {
      error: (i) =>
        `${describeValue(i.input)} is not a valid cluster name: use 1–63 letters, digits, "_", ".", ":" or "-", starting with a letter or digit`,
    })
    .optional(),
  connectTimeout: timeout.default(DEFAULTS.connectTimeout),
  readTimeout: timeout.default(DEFAULTS.readTimeout),
  writeTimeout: timeout.default(DEFAULTS.writeTimeout),
  maxRetries: z
    .number({ error: mustBe("a whole number from 0 to 100") })
    .refine((n) => Number.isInteger(n) && n >= 0 && n <= 100, {
      error: (i) => `must be a whole number from 0 to 100, got ${describeValue(i.input)}`,
    })
    .default(DEFAULTS.maxRetries),
  retryInterval: durationIn({ min: 0, minInclusive: true, max: MAX_RETRY_INTERVAL }).default(DEFAULTS.retryInterval),
  interval: durationIn({ min: MIN_INTERVAL, minInclusive: true, max: MAX_INTERVAL }).default(DEFAULTS.interval),
  createHealthTable: z.boolean({ error: mustBe("true or false") }).default(DEFAULTS.createHealthTable),
  writeCheck: oneOf(["auto", "always", "never"]).default(DEFAULTS.writeCheck),
  connection: oneOf(["persistent", "per-cycle"]).default(DEFAULTS.connection),
  thresholds: z
    .strictObject(thresholdsShape, { error: (i) => unknownKeysOr(i, Object.keys(thresholdsShape), "an object like { readLatency: \"500ms\" }") })
    .optional(),
  maxReplicationLag: durationIn({ min: 0, max: MAX_LONG }).optional(),
  probeId: z
    .string({ error: mustBe("a string") })
    .regex(PROBE_ID_RE, { error: (i) => `${describeValue(i.input)} is not a valid probe id: use 1–128 printable characters` })
    .optional(),
  healthTable: identifier.default(DEFAULTS.healthTable),
  schema: identifier.optional(),
  pruneAfter: durationIn({ min: MIN_PRUNE_AFTER, minInclusive: true, max: MAX_LONG }).default(DEFAULTS.pruneAfter),
  checks: customChecksSchema(timeout).default([]),
};

/** The target object without the cross-field rules (zod skips those once a field fails). */
export const baseSchema = z.strictObject(shape, {
  error: (i) => unknownKeysOr(i, Object.keys(shape), 'an object like { dsn: "postgres://user@host/db" }'),
});

/**
 * Zod schema of {@link TargetOptions}: strict (unknown keys are errors, with a suggestion),
 * durations turned into milliseconds, defaults applied except `name` and `probeId`, which
 * depend on the other targets and the host ({@link resolveTargetConfigs} fills them in).
 *
 * @example
 * ```ts
 * const result = targetOptionsSchema.safeParse({ dsn: "file:app.db", interval: "30s" });
 * if (result.success) result.data.interval; // 30000
 * ```
 */
export const targetOptionsSchema = baseSchema.superRefine((value, ctx) => {
  for (const p of crossFieldProblems(value)) ctx.addIssue({ code: "custom", path: p.path, message: p.message });
});

/** Message for an object issue: unknown keys with suggestions, otherwise a type mismatch. */
function unknownKeysOr(issue: zc.$ZodRawIssue, known: readonly string[], what: string): string {
  if (issue.code === "unrecognized_keys") {
    return (issue.keys as string[]).map((k) => `${describeValue(k)}: ${unknownKey(k, known)}`).join("; ");
  }
  return mustBe(what)(issue);
}
