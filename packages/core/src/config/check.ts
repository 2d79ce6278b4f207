/**
 * Checking targets without throwing: every problem of every target as data (`{ path, message }`),
 * each DSN parsed once and kept. resolveTargetConfigs (resolve.ts) and planTargets
 * (target-plan.ts) are built on it; a CLI maps each problem's path back to the flag, variable or
 * file line that set the value, without reading messages.
 */
import { hostname } from "node:os";
import { describeValue, withSecrets } from "../contract/describe-value.js";
import { validName, validateTarget, withCheckTimeouts } from "./validate.js";
import type { TargetConfig } from "./types.js";
import { dsnSecrets, type ParsedDsn } from "../dsn/dsn.js";

/**
 * One problem of a configuration, as data.
 *
 * @example
 * ```ts
 * const problem: ConfigProblem = { path: [1, "thresholds", "readLatency"], message: "2s must be less than readTimeout (1s): …", related: ["readTimeout"] };
 * ```
 */
export interface ConfigProblem {
  /**
   * Where, from the list of targets: the target's index, then the option (`[1, "thresholds",
   * "readLatency"]` is `targets[1].thresholds.readLatency`). Empty when the list itself is wrong.
   */
  path: Array<string | number>;
  /** What is wrong and how to fix it; values and DSNs only redacted. */
  message: string;
  /**
   * Other options of the same target that a rule between options compared this one with
   * (`["interval"]` for a `pruneAfter` under two intervals): when the value at `path` is a
   * default, one of these is the value that was set. @default none
   */
  related?: string[];
}

/** A target's options once valid: core's defaults applied except `name` and `probeId`. */
export type CheckedSettings = Omit<TargetConfig, "name" | "probeId" | "thresholds"> & Partial<Pick<TargetConfig, "name" | "probeId" | "thresholds">>;

/** What {@link checkTargetConfigs} found about one target. */
export interface CheckedTarget {
  /** The DSN parsed, whenever it is valid (even if another option is not). Holds the password: keep it in. */
  dsn?: ParsedDsn;
  /** The DSN's literal secrets (see `dsnSecrets`). */
  secrets: string[];
  /** The options with defaults applied, when the whole target is valid. */
  settings?: CheckedSettings;
}

/** The result of {@link checkTargetConfigs}: one entry per input, and every problem. */
export interface TargetCheck {
  /** Every problem of every target, in order, then the duplicate names. Empty when all are valid. */
  problems: ConfigProblem[];
  /** One per input, in order. */
  targets: CheckedTarget[];
  /** Every target's secrets: a password pasted into any target's field is hidden in every message. */
  secrets: string[];
}

/** Options of {@link checkTargetConfigs}. */
export interface CheckOptions {
  /**
   * How a message names another target (a duplicate name names the target that has it first).
   * @default (index) => `targets[${index}]`
   */
  nameOf?(index: number): string;
}

/**
 * Each target's DSN secrets, aligned with `inputs` (none for a target without a DSN string).
 *
 * @internal shared with the zod reference check of the tests (config/__fixtures__/zod-check.ts).
 * @example
 * ```ts
 * targetSecrets([{ dsn: "postgres://u:pw@db/app" }, { name: "x" }]); // [["pw"], []]
 * ```
 */
export function targetSecrets(inputs: readonly unknown[]): string[][] {
  return inputs.map((input) => {
    const dsn = isRecord(input) ? input["dsn"] : undefined;
    return typeof dsn === "string" ? dsnSecrets(dsn) : [];
  });
}

/**
 * Checks several targets and returns every problem as data instead of throwing: each DSN is
 * parsed once (the parse is kept for the driver), every field is checked, and two targets with
 * one explicit name are a problem of the second. Missing names are not derived here: they depend
 * on each target's driver (see planTargets).
 *
 * @example
 * ```ts
 * const check = checkTargetConfigs([{ dsn: "file:app.db", interval: "5x" }]);
 * check.problems;         // [{ path: [0, "interval"], message: 'invalid duration "5x": …' }]
 * check.targets[0]?.dsn;  // { scheme: "file", form: "sqlite-file", database: "app.db", … }
 * ```
 */
export function checkTargetConfigs(inputs: readonly unknown[], options: CheckOptions = {}): TargetCheck {
  if (!Array.isArray(inputs)) {
    return { problems: [{ path: [], message: `must be a list of targets, got ${describeValue(inputs)}` }], targets: [], secrets: [] };
  }
  const nameOf = options.nameOf ?? ((i: number) => `targets[${i}]`);
  // Every target's password, so that one pasted into any field of any target is hidden before
  // values are cut short for messages, not only in the final message.
  const own = targetSecrets(inputs);
  const secrets = own.flat();
  const problems: ConfigProblem[] = [];
  const targets = withSecrets(secrets, () =>
    inputs.map((input, i): CheckedTarget => {
      const { problems: found, settings, dsn } = validateTarget(input);
      for (const p of found) problems.push({ ...p, path: [i, ...p.path] });
      return { secrets: own[i]!, ...(dsn ? { dsn } : {}), ...(settings ? { settings: withCheckTimeouts(settings) as CheckedSettings } : {}) };
    }),
  );

  const owner = new Map<string, number>();
  inputs.forEach((input, i) => {
    const name = explicitName(input);
    if (name === undefined) return;
    const first = owner.get(name);
    if (first === undefined) owner.set(name, i);
    else problems.push({ path: [i, "name"], message: `"${name}" is already the name of ${nameOf(first)}; give each target its own name` });
  });
  return { problems, targets, secrets };
}

/**
 * The problems as one text, a line each, starting with the option's path: `targets[1].readTimeout: …`,
 * or with `single` the path inside the one target (`readTimeout: …`). `secrets` are hidden in
 * the paths before they are cut short.
 *
 * @example
 * ```ts
 * formatProblems([{ path: [0, "interval"], message: "…" }], { single: true }); // "interval: …"
 * ```
 */
export function formatProblems(problems: readonly ConfigProblem[], options: { single?: boolean; secrets?: readonly string[] } = {}): string {
  const line = ({ path, message }: ConfigProblem): string => {
    const [index, ...inside] = path;
    const prefix = path.length === 0 ? "targets" : options.single ? "" : `targets[${String(index)}]`;
    return `${formatPath(prefix, inside)}: ${message}`;
  };
  return withSecrets(options.secrets ?? [], () => problems.map(line).join("\n"));
}

/**
 * The targets' configurations once the check found no problem: every default, each name
 * explicit or the first free of its engine's (`postgres`, `postgres-2`…), and probe ids.
 *
 * @example
 * ```ts
 * configsOf(check, (i) => definitions[i]!.name); // [{ name: "postgres", … }]
 * ```
 */
export function configsOf(check: TargetCheck, engineOf: (index: number) => string): TargetConfig[] {
  const host = hostname() || "localhost";
  const settings = check.targets.map((t) => t.settings);
  const taken = new Set(settings.flatMap((s) => (s?.name === undefined ? [] : [s.name])));
  return settings.map((s, i) => {
    if (!s) throw new Error(`target ${i} has problems: configsOf() takes a check without any`);
    const { thresholds, name: explicit, probeId, ...rest } = s;
    const name = explicit ?? defaultName(engineOf(i), taken);
    return { name, ...rest, thresholds: thresholds ?? {}, probeId: probeId ?? `${host.slice(0, 127 - name.length)}/${name}` };
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

/** A valid explicit name, checked even when other fields are wrong, for duplicate detection. */
function explicitName(input: unknown): string | undefined {
  return isRecord(input) ? validName(input["name"]) : undefined;
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
