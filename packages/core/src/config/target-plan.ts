/**
 * The plan of a target: everything one resolution learns about it (the parsed DSN, the settings
 * with every default, the driver serving it), so that nothing downstream validates, parses or
 * looks it up again. createDriver takes a plan as it is.
 */
import { configsOf, formatProblems, type TargetCheck } from "./check.js";
import type { TargetConfig } from "./types.js";
import type { DriverDefinition } from "../contract/driver-definition.js";
import { describeDsn, dsnSecrets, parseDsn, type ParsedDsn } from "../dsn/dsn.js";
import { DbHealthError } from "../contract/errors.js";

/**
 * One target, resolved once: made by {@link planTargets} or {@link retarget} only, and taken by
 * `createDriver` without validating it again. Read-only.
 *
 * @example
 * ```ts
 * const [plan] = planTargets(checkTargetConfigs([{ dsn: "file:app.db" }]), [sqliteDriver]);
 * plan.config.name;  // "sqlite"
 * plan.dsn.database; // "app.db"
 * const driver = createDriver(plan);
 * ```
 */
export interface ResolvedTarget {
  /** Every setting, defaults applied, the name and probe id derived. Holds the DSN: do not log it. */
  readonly config: TargetConfig;
  /** The DSN parsed, password included: keep it inside. */
  readonly dsn: ParsedDsn;
  /** The driver serving the DSN's scheme. */
  readonly definition: DriverDefinition;
  /** The DSN's literal secrets, for redaction (see `dsnSecrets`). */
  readonly secrets: readonly string[];
}

// Only plans made here are trusted to skip validation: a look-alike object is validated as options.
const made = new WeakSet<object>();

/**
 * Whether `value` is a plan made by {@link planTargets} or {@link retarget} (a copy is not).
 *
 * @example
 * ```ts
 * isResolvedTarget(plan);          // true
 * isResolvedTarget({ ...plan });   // false
 * ```
 */
export function isResolvedTarget(value: unknown): value is ResolvedTarget {
  return typeof value === "object" && value !== null && made.has(value);
}

/**
 * Turns a check without problems into one plan per target, given the driver of each (the one
 * registered for its DSN's scheme). A target without an explicit name is named after its driver's
 * engine (`definition.name`: `postgres`, `mysql`, a plugin's own name), then `-2`, `-3`….
 *
 * @throws {DbHealthError} kind `"config"` listing the check's problems when it has any (as
 * resolveTargetConfigs would); kind `"contract"` when `definitions` does not match the targets.
 * @example
 * ```ts
 * const check = checkTargetConfigs(options);
 * const definitions = check.targets.map((t) => driverRegistry.get(t.dsn!.scheme)!);
 * const plans = planTargets(check, definitions);
 * ```
 */
export function planTargets(check: TargetCheck, definitions: readonly DriverDefinition[]): ResolvedTarget[] {
  const { problems, secrets } = check;
  if (problems.length > 0) throw new DbHealthError("config", formatProblems(problems, { secrets }), { secrets });
  if (definitions.length !== check.targets.length || definitions.some((d) => !d)) {
    throw new DbHealthError("contract", `planTargets: ${check.targets.length} target(s) need a driver definition each, got ${definitions.length}`);
  }
  const configs = configsOf(check, (i) => definitions[i]!.name);
  return check.targets.map((t, i) => seal(configs[i]!, t.dsn!, definitions[i]!, t.secrets));
}

/**
 * The same target on another DSN of the same driver: settings, name and probe id kept, the DSN
 * parsed once. For targets known only at run time (a discovery module's `?target=`), whose
 * settings were resolved once on a stand-in address.
 *
 * @throws {DbHealthError} kind `"config"` when the DSN does not parse or is not the driver's scheme.
 * @example
 * ```ts
 * const target = retarget(modulePlan, "postgres://probe@10.0.0.5:5432/orders");
 * const driver = createDriver(target);
 * ```
 */
export function retarget(target: ResolvedTarget, dsn: string): ResolvedTarget {
  if (!isResolvedTarget(target)) throw new DbHealthError("contract", "retarget() takes a target made by planTargets() or retarget()");
  const parsed = parseDsn(dsn);
  const { definition } = target;
  if (!definition.schemes.some((s) => s.toLowerCase() === parsed.scheme)) {
    throw new DbHealthError("config", `the ${definition.name} driver does not serve "${describeDsn(dsn)}" (scheme "${parsed.scheme}")`);
  }
  return seal({ ...target.config, dsn }, parsed, definition, dsnSecrets(dsn));
}

function seal(config: TargetConfig, dsn: ParsedDsn, definition: DriverDefinition, secrets: readonly string[]): ResolvedTarget {
  const plan: ResolvedTarget = Object.freeze({ config: Object.freeze(config), dsn, definition, secrets: Object.freeze([...secrets]) });
  made.add(plan);
  return plan;
}
