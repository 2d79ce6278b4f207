/**
 * Resolving targets: validation with every problem listed at once, defaults, derived names and
 * probe ids. The shapes live in config-types.ts, the zod schema in config-schema.ts.
 */
import { hostname } from "node:os";
import type * as z from "zod";
import { describeValue, withSecrets } from "./_internal/describe-value.js";
import { unknownKey } from "./_internal/suggest.js";
import { baseSchema, crossFieldProblems, shape, thresholdsShape, type CrossFields, type Problem } from "./config-schema.js";
import type { TargetConfig } from "./config-types.js";
import { dsnScheme, dsnSecrets } from "./dsn.js";
import { DbHealthError } from "./errors.js";

export { DEFAULTS, type TargetConfig, type TargetOptions } from "./config-types.js";
export { targetOptionsSchema } from "./config-schema.js";

/**
 * Engine name for a DSN scheme, as used for default target names and the `db_name` label.
 *
 * @example
 * ```ts
 * engineForScheme("postgresql"); // "postgres"
 * engineForScheme("sqlite3");    // "sqlite"
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
  sqlite3: "sqlite",
  sqlserver: "mssql",
  mssql: "mssql",
};

/**
 * Validates one target and applies every default.
 *
 * @throws {DbHealthError} kind `"config"`; its message lists every problem, one per line,
 * each starting with the option's path (`connectTimeout: invalid duration "5x": …`).
 * DSNs and values only ever appear redacted.
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
    throw new DbHealthError("config", `targets: must be a list of targets, got ${describeValue(inputs)}`);
  }
  return resolveAll(inputs, (i) => `targets[${i}]`);
}

interface Checked {
  problems: string[];
  config?: z.output<typeof baseSchema>;
  /** Valid explicit name, checked even when other fields are wrong, for duplicate detection. */
  name?: string;
}

function resolveAll(inputs: readonly unknown[], prefixOf: (index: number) => string): TargetConfig[] {
  // Every target's password, so that one pasted into any field of any target is hidden before
  // values are cut short for messages, not only in the final message.
  const secrets = inputs.flatMap((input) => {
    const dsn = isRecord(input) ? input["dsn"] : undefined;
    return typeof dsn === "string" ? dsnSecrets(dsn) : [];
  });
  const checked = withSecrets(secrets, () => inputs.map((input, i) => checkTarget(input, prefixOf(i))));
  const problems = checked.flatMap((c) => c.problems);

  const owner = new Map<string, number>();
  checked.forEach((c, i) => {
    if (c.name === undefined) return;
    const first = owner.get(c.name);
    if (first === undefined) owner.set(c.name, i);
    else problems.push(`${prefixOf(i)}.name: "${c.name}" is already the name of ${prefixOf(first)}; give each target its own name`);
  });

  if (problems.length > 0) throw new DbHealthError("config", problems.join("\n"), { secrets });

  const taken = new Set(owner.keys());
  const host = hostname() || "localhost";
  return checked.map((c) => {
    // No problems means every target parsed, its DSN included.
    const { thresholds, name: explicit, probeId, ...rest } = c.config as z.output<typeof baseSchema>;
    const name = explicit ?? defaultName(engineForScheme(dsnScheme(rest.dsn)), taken);
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
  const checked: Checked = { problems: [] };
  const line = (p: Problem) => `${formatPath(prefix, p.path)}: ${p.message}`;

  const result = baseSchema.safeParse(input);
  if (result.success) {
    checked.config = result.data;
    checked.problems.push(...crossFieldProblems(result.data).map(line));
  } else {
    for (const issue of result.error.issues) {
      if (issue.code === "unrecognized_keys") {
        const known = issue.path.length === 0 ? Object.keys(shape) : Object.keys(thresholdsShape);
        for (const key of issue.keys) checked.problems.push(line({ path: [...issue.path, key], message: unknownKey(key, known) }));
      } else {
        checked.problems.push(line({ path: issue.path, message: issue.message }));
      }
    }
    // The object failed, so zod skipped the cross-field rules: apply them to the fields that are valid.
    if (record) checked.problems.push(...crossFieldProblems(validFields(record)).map(line));
  }

  if (record) {
    const name = shape.name.safeParse(record["name"]);
    if (name.success && name.data !== undefined) checked.name = name.data;
  }
  return checked;
}

/** The fields of a failed target that the cross-field rules compare and that are valid on their own. */
function validFields(record: Record<string, unknown>): CrossFields {
  const value = <T>(r: z.ZodSafeParseResult<T>) => (r.success ? r.data : undefined);
  const t = isRecord(record["thresholds"]) ? record["thresholds"] : {};
  return {
    readTimeout: value(shape.readTimeout.safeParse(record["readTimeout"])),
    writeTimeout: value(shape.writeTimeout.safeParse(record["writeTimeout"])),
    interval: value(shape.interval.safeParse(record["interval"])),
    pruneAfter: value(shape.pruneAfter.safeParse(record["pruneAfter"])),
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
    else out += `[${describeValue(String(key))}]`;
  }
  return out || "target";
}
