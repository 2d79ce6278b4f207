import { hostname } from "node:os";
import * as z from "zod";
import type * as zc from "zod/v4/core";
import { dsnScheme, redactDsn } from "./dsn.js";
import { durationSchema, formatDuration } from "./duration.js";
import { DbHealthError, errorMessage } from "./errors.js";

/**
 * Defaults applied to every field a target leaves out (durations in milliseconds).
 *
 * @example
 * ```ts
 * const timeout = options.connectTimeout ?? DEFAULTS.connectTimeout; // 5000
 * ```
 */
export const DEFAULTS = Object.freeze({
  role: "auto",
  connectTimeout: 5000,
  readTimeout: 2000,
  writeTimeout: 2000,
  maxRetries: 3,
  retryInterval: 1000,
  interval: 15_000,
  createHealthTable: true,
  writeCheck: "auto",
  healthTable: "_health_check",
} as const);

/**
 * One target as users write it (YAML, flags, env, library calls). Durations are
 * `"500ms"`, `"2s"`, `"1m30s"`… or a number of milliseconds.
 *
 * @example
 * ```ts
 * const options: TargetOptions = { dsn: "postgres://app@db:5432/app", readTimeout: "1s" };
 * ```
 */
export interface TargetOptions {
  /** Database to probe, in any DSN form core understands. Required. */
  dsn: string;
  /**
   * Name used in the `target` metric label and `/probe?target=`: 1–63 of `A-Z a-z 0-9 _ . : -`,
   * starting with a letter or digit.
   * @default the engine (`postgres`, `mysql`, `sqlite`, `mssql`…), then `-2`, `-3`… when several targets share one
   */
  name?: string;
  /**
   * Role this node is expected to have; `auto` accepts whatever the database reports.
   * @default "auto"
   */
  role?: "primary" | "replica" | "auto";
  /**
   * Deadline for establishing a connection (more than 0, at most 10m).
   * @default "5s"
   */
  connectTimeout?: string | number;
  /**
   * Deadline for ping, role detection and the read-back (more than 0, at most 10m).
   * @default "2s"
   */
  readTimeout?: string | number;
  /**
   * Deadline for writing the health row (more than 0, at most 10m).
   * @default "2s"
   */
  writeTimeout?: string | number;
  /**
   * Extra connect/ping attempts before the target is `down` (whole number, 0–100).
   * @default 3
   */
  maxRetries?: number;
  /**
   * Pause between those attempts.
   * @default "1s"
   */
  retryInterval?: string | number;
  /**
   * Time between probe cycles (at least 100ms).
   * @default "15s"
   */
  interval?: string | number;
  /**
   * Create the health table when it is missing.
   * @default true
   */
  createHealthTable?: boolean;
  /**
   * When to write: `auto` writes only where the role allows it, `always` treats a refused
   * write as degraded, `never` only reads.
   * @default "auto"
   */
  writeCheck?: "auto" | "always" | "never";
  /**
   * Latencies above which the target is `degraded`; each must stay below its phase's timeout.
   * @default {} (no thresholds)
   */
  thresholds?: {
    /** Ping latency threshold; below `readTimeout`. @default none */
    pingLatency?: string | number;
    /** Read latency threshold; below `readTimeout`. @default none */
    readLatency?: string | number;
    /** Write latency threshold; below `writeTimeout`. @default none */
    writeLatency?: string | number;
  };
  /**
   * Replication lag above which a replica is `degraded`.
   * @default none (lag is reported, never judged)
   */
  maxReplicationLag?: string | number;
  /**
   * This prober's row key in the health table: 1–128 printable characters.
   * @default `${os.hostname()}/${name}`
   */
  probeId?: string;
  /**
   * Health table name (letters, digits, `_`; not starting with a digit; at most 63).
   * @default "_health_check"
   */
  healthTable?: string;
  /**
   * Schema holding the health table (same rule as `healthTable`).
   * @default none (the connection's default schema; `dbo` on SQL Server)
   */
  schema?: string;
}

/**
 * A validated target with every default applied; durations in milliseconds.
 *
 * @example
 * ```ts
 * const config: TargetConfig = resolveTargetConfig({ dsn: "file:app.db" });
 * config.readTimeout; // 2000
 * ```
 */
export interface TargetConfig {
  /** Target name, explicit or derived from the engine. */
  name: string;
  /** The DSN as given (unredacted: never log it, use `redactDsn`). */
  dsn: string;
  /** Expected role. @default "auto" */
  role: "primary" | "replica" | "auto";
  /** Connect deadline in ms. @default 5000 */
  connectTimeout: number;
  /** Ping/role/read deadline in ms. @default 2000 */
  readTimeout: number;
  /** Write deadline in ms. @default 2000 */
  writeTimeout: number;
  /** Extra connect/ping attempts. @default 3 */
  maxRetries: number;
  /** Pause between attempts in ms. @default 1000 */
  retryInterval: number;
  /** Time between cycles in ms. @default 15000 */
  interval: number;
  /** Create the health table when missing. @default true */
  createHealthTable: boolean;
  /** When to write. @default "auto" */
  writeCheck: "auto" | "always" | "never";
  /** Latency thresholds in ms; a missing key means no threshold. @default {} */
  thresholds: { pingLatency?: number; readLatency?: number; writeLatency?: number };
  /** Lag threshold in ms. @default none */
  maxReplicationLag?: number;
  /** Row key in the health table. @default `${os.hostname()}/${name}` */
  probeId: string;
  /** Health table name. @default "_health_check" */
  healthTable: string;
  /** Schema of the health table. @default none */
  schema?: string;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/;
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
// "Printable": no control, format, surrogate, private-use or line/paragraph separator characters.
const PROBE_ID_RE = /^[^\p{C}\p{Zl}\p{Zp}]{1,128}$/u;
const MAX_TIMEOUT = 600_000;

/** A user value for a message: strings quoted and cut short, containers only named. */
function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return "a list";
  if (value !== null && typeof value === "object") return "an object";
  return String(value);
}

/** Message for a value of the wrong type. */
const mustBe = (what: string) => (issue: zc.$ZodRawIssue) =>
  issue.input === undefined ? `is required (${what})` : `must be ${what}, got ${describe(issue.input)}`;

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: mustBe(`one of ${values.map((v) => `"${v}"`).join(", ")}`) });

const identifier = z
  .string({ error: mustBe("a string") })
  .regex(IDENT_RE, {
    error: (i) => `${describe(i.input)} is not a valid identifier: use 1–63 letters, digits or "_", not starting with a digit`,
  });

/** A duration within bounds, with a message that names the bounds in duration syntax. */
function durationIn(min: number, max = Number.POSITIVE_INFINITY, minInclusive = false) {
  const low = minInclusive ? `at least ${formatDuration(min)}` : `more than ${formatDuration(min)}`;
  const rule = max === Number.POSITIVE_INFINITY ? low : `${low} and at most ${formatDuration(max)}`;
  return durationSchema.refine((ms) => (minInclusive ? ms >= min : ms > min) && ms <= max, {
    error: (i) => `must be ${rule}, got ${formatDuration(Number(i.input))}`,
  });
}

const timeout = durationIn(0, MAX_TIMEOUT);
const threshold = durationIn(0);

const DSN_HINT = "the database to probe, e.g. postgres://user@host:5432/db";

const dsnField = z
  .string({ error: (i) => (i.input === undefined ? `is required: ${DSN_HINT}` : `must be a string, got ${describe(i.input)}`) })
  .superRefine((dsn, ctx) => {
    if (dsn.trim() === "") {
      ctx.addIssue({ code: "custom", message: `must not be empty: give ${DSN_HINT}` });
      return;
    }
    try {
      dsnScheme(dsn);
    } catch (err) {
      // dsnScheme's message already shows the DSN redacted; errorMessage() redacts once more in
      // case anything else was thrown.
      ctx.addIssue({ code: "custom", message: errorMessage(err) });
    }
  });

const thresholdsShape = {
  pingLatency: threshold.optional(),
  readLatency: threshold.optional(),
  writeLatency: threshold.optional(),
};

const shape = {
  dsn: dsnField,
  name: z
    .string({ error: mustBe("a string") })
    .regex(NAME_RE, {
      error: (i) =>
        `${describe(i.input)} is not a valid name: use 1–63 letters, digits, "_", ".", ":" or "-", starting with a letter or digit`,
    })
    .optional(),
  role: oneOf(["primary", "replica", "auto"]).default(DEFAULTS.role),
  connectTimeout: timeout.default(DEFAULTS.connectTimeout),
  readTimeout: timeout.default(DEFAULTS.readTimeout),
  writeTimeout: timeout.default(DEFAULTS.writeTimeout),
  maxRetries: z
    .number({ error: mustBe("a whole number from 0 to 100") })
    .refine((n) => Number.isInteger(n) && n >= 0 && n <= 100, {
      error: (i) => `must be a whole number from 0 to 100, got ${describe(i.input)}`,
    })
    .default(DEFAULTS.maxRetries),
  retryInterval: durationSchema.default(DEFAULTS.retryInterval),
  interval: durationIn(100, undefined, true).default(DEFAULTS.interval),
  createHealthTable: z.boolean({ error: mustBe("true or false") }).default(DEFAULTS.createHealthTable),
  writeCheck: oneOf(["auto", "always", "never"]).default(DEFAULTS.writeCheck),
  thresholds: z
    .strictObject(thresholdsShape, { error: (i) => unknownKeysOr(i, Object.keys(thresholdsShape), "an object like { readLatency: \"500ms\" }") })
    .optional(),
  maxReplicationLag: threshold.optional(),
  probeId: z
    .string({ error: mustBe("a string") })
    .regex(PROBE_ID_RE, { error: (i) => `${describe(i.input)} is not a valid probe id: use 1–128 printable characters` })
    .optional(),
  healthTable: identifier.default(DEFAULTS.healthTable),
  schema: identifier.optional(),
};

const baseSchema = z.strictObject(shape, {
  error: (i) => unknownKeysOr(i, Object.keys(shape), 'an object like { dsn: "postgres://user@host/db" }'),
});

interface Problem {
  path: PropertyKey[];
  message: string;
}

/** Cross-field rules: a latency threshold at or above its timeout could never trigger. */
function thresholdProblems(v: {
  readTimeout?: number | undefined;
  writeTimeout?: number | undefined;
  thresholds?: { pingLatency?: number | undefined; readLatency?: number | undefined; writeLatency?: number | undefined } | undefined;
}): Problem[] {
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
      message: `${formatDuration(value)} must be less than ${timeoutKey} (${formatDuration(limit)}): the phase times out before the threshold is reached; lower the threshold or raise ${timeoutKey}`,
    });
  }
  return problems;
}

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
  for (const p of thresholdProblems(value)) ctx.addIssue({ code: "custom", path: p.path, message: p.message });
});

/**
 * Engine name for a DSN scheme, as used for default target names and the `db_name` label.
 *
 * @example
 * ```ts
 * engineForScheme("postgresql"); // "postgres"
 * engineForScheme("file");       // "sqlite"
 * engineForScheme("cockroach");  // "cockroach"
 * ```
 */
export function engineForScheme(scheme: string): string {
  const s = scheme.toLowerCase();
  return ENGINES[s] ?? s;
}

const ENGINES: Readonly<Record<string, string>> = {
  postgres: "postgres",
  postgresql: "postgres",
  mysql: "mysql",
  mariadb: "mysql",
  file: "sqlite",
  sqlite: "sqlite",
  sqlserver: "mssql",
  mssql: "mssql",
};

/**
 * Validates one target and applies every default.
 *
 * @throws {DbHealthError} kind `"config"`; its message lists every problem, one per line,
 * each starting with the option's path (`connectTimeout: invalid duration "5x": …`).
 * DSNs only ever appear redacted.
 * @example
 * ```ts
 * const config = resolveTargetConfig({ dsn: "postgres://app@db/app", interval: "30s" });
 * config.name;     // "postgres"
 * config.interval; // 30000
 * ```
 */
export function resolveTargetConfig(input: unknown): TargetConfig {
  const [config] = resolveAll([input], () => "");
  // resolveAll returns one config per input or throws.
  return config as TargetConfig;
}

/**
 * Validates several targets at once: every problem of every target is reported in one
 * error (paths start with `targets[i]`), missing names are derived from the engine
 * (`postgres`, `postgres-2`…), and two targets with one name are an error naming both.
 *
 * @throws {DbHealthError} kind `"config"`, as {@link resolveTargetConfig}.
 * @example
 * ```ts
 * const [a, b] = resolveTargetConfigs([{ dsn: "postgres://h1/db" }, { dsn: "postgres://h2/db" }]);
 * a.name; // "postgres"
 * b.name; // "postgres-2"
 * ```
 */
export function resolveTargetConfigs(inputs: readonly unknown[]): TargetConfig[] {
  if (!Array.isArray(inputs)) {
    throw new DbHealthError("config", `targets: must be a list of targets, got ${describe(inputs)}`);
  }
  return resolveAll(inputs, (i) => `targets[${i}]`);
}

interface Checked {
  problems: string[];
  config?: z.output<typeof baseSchema>;
  /** Valid explicit name, checked even when other fields are wrong, for duplicate detection. */
  name?: string;
  /** Engine of a readable DSN, for the default name. */
  engine?: string;
  secrets: string[];
}

function resolveAll(inputs: readonly unknown[], prefixOf: (index: number) => string): TargetConfig[] {
  const checked = inputs.map((input, i) => checkTarget(input, prefixOf(i)));
  const problems = checked.flatMap((c) => c.problems);

  const owner = new Map<string, number>();
  checked.forEach((c, i) => {
    if (c.name === undefined) return;
    const first = owner.get(c.name);
    if (first === undefined) owner.set(c.name, i);
    else problems.push(`${prefixOf(i)}.name: "${c.name}" is already the name of ${prefixOf(first)}; give each target its own name`);
  });

  const secrets = checked.flatMap((c) => c.secrets);
  if (problems.length > 0) throw new DbHealthError("config", problems.join("\n"), { secrets });

  const taken = new Set(owner.keys());
  const host = hostname() || "localhost";
  return checked.map((c) => {
    // No problems means every target parsed and has an engine.
    const { thresholds, name: explicit, probeId, ...rest } = c.config as z.output<typeof baseSchema>;
    const name = explicit ?? defaultName(c.engine ?? "db", taken);
    return {
      name,
      ...rest,
      thresholds: thresholds ?? {},
      probeId: probeId ?? `${host.slice(0, 127 - name.length)}/${name}`,
    };
  });
}

/** First free of `engine`, `engine-2`, `engine-3`…, kept within the name rule. */
function defaultName(engine: string, taken: Set<string>): string {
  const base = engine.replace(/[^A-Za-z0-9_.:-]/g, "-").replace(/^[^A-Za-z0-9]+/, "") || "db";
  for (let n = 1; ; n++) {
    const suffix = n === 1 ? "" : `-${n}`;
    const candidate = base.slice(0, 63 - suffix.length) + suffix;
    if (!taken.has(candidate)) {
      taken.add(candidate);
      return candidate;
    }
  }
}

function checkTarget(input: unknown, prefix: string): Checked {
  const record = isRecord(input) ? input : undefined;
  const dsn = typeof record?.["dsn"] === "string" ? record["dsn"] : undefined;
  const checked: Checked = { problems: [], secrets: dsn === undefined ? [] : dsnSecrets(dsn) };
  const line = (p: Problem) => `${formatPath(prefix, p.path)}: ${p.message}`;

  const result = baseSchema.safeParse(input);
  if (result.success) {
    checked.config = result.data;
    checked.problems.push(...thresholdProblems(result.data).map(line));
  } else {
    for (const issue of result.error.issues) {
      if (issue.code === "unrecognized_keys") {
        const known = issue.path.length === 0 ? Object.keys(shape) : Object.keys(thresholdsShape);
        for (const key of issue.keys) checked.problems.push(line({ path: [...issue.path, key], message: unknownKey(key, known) }));
      } else {
        checked.problems.push(line({ path: issue.path, message: issue.message }));
      }
    }
    // The object failed, so zod skipped the cross-field rule: apply it to the fields that are valid.
    if (record) checked.problems.push(...thresholdProblems(validFields(record)).map(line));
  }

  if (record) {
    const name = shape.name.safeParse(record["name"]);
    if (name.success && name.data !== undefined) checked.name = name.data;
  }
  if (dsn !== undefined && dsnField.safeParse(dsn).success) checked.engine = engineForScheme(dsnScheme(dsn));
  return checked;
}

/** The timeouts and thresholds of a failed target that are valid on their own. */
function validFields(record: Record<string, unknown>) {
  const value = <T>(r: z.ZodSafeParseResult<T>) => (r.success ? r.data : undefined);
  const t = isRecord(record["thresholds"]) ? record["thresholds"] : {};
  return {
    readTimeout: value(shape.readTimeout.safeParse(record["readTimeout"])),
    writeTimeout: value(shape.writeTimeout.safeParse(record["writeTimeout"])),
    thresholds: {
      pingLatency: value(thresholdsShape.pingLatency.safeParse(t["pingLatency"])),
      readLatency: value(thresholdsShape.readLatency.safeParse(t["readLatency"])),
      writeLatency: value(thresholdsShape.writeLatency.safeParse(t["writeLatency"])),
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `targets[1]` + ["thresholds", "readLatency"] → `targets[1].thresholds.readLatency`. */
function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${describe(String(key))}]`;
  }
  return out || "target";
}

/** Message for an object issue: unknown keys with suggestions, otherwise a type mismatch. */
function unknownKeysOr(issue: zc.$ZodRawIssue, known: readonly string[], what: string): string {
  if (issue.code === "unrecognized_keys") {
    return (issue.keys as string[]).map((k) => `${describe(k)}: ${unknownKey(k, known)}`).join("; ");
  }
  return mustBe(what)(issue);
}

function unknownKey(key: string, known: readonly string[]): string {
  const close = suggestions(key, known);
  if (close.length > 0) return `unknown option; did you mean ${close.map((k) => `"${k}"`).join(" or ")}?`;
  return `unknown option (known: ${known.join(", ")})`;
}

/** Known keys a typo most likely meant: same letters ignoring case and separators, a small edit away, or containing it. */
function suggestions(key: string, known: readonly string[]): string[] {
  const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, "");
  const k = norm(key);
  const same = known.filter((c) => norm(c) === k);
  if (same.length > 0) return same;
  const maxEdits = k.length >= 8 ? 2 : 1;
  const near = known.filter((c) => editDistance(k, norm(c)) <= maxEdits);
  if (near.length > 0) return near;
  return k.length >= 4 ? known.filter((c) => norm(c).includes(k)).slice(0, 3) : [];
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * The secrets of a DSN, so that a value echoed from another field (a password pasted into
 * `name`, say) is redacted too: whatever redactDsn() replaces with "***" is a secret.
 */
function dsnSecrets(dsn: string): string[] {
  const pieces = redactDsn(dsn).split("***");
  const first = pieces[0] ?? "";
  if (pieces.length < 2 || !dsn.startsWith(first)) return [];
  const found: string[] = [];
  let pos = first.length;
  for (let i = 1; i < pieces.length; i++) {
    const piece = pieces[i] ?? "";
    // The last piece is the DSN's tail; searching from the end keeps a secret that contains it whole.
    const at = i === pieces.length - 1 ? dsn.length - piece.length : dsn.indexOf(piece, pos);
    if (at < pos) break;
    found.push(dsn.slice(pos, at));
    pos = at + piece.length;
  }
  return found.filter((secret) => secret.length > 0);
}
