/**
 * Resolving targets into configurations, throwing one error that lists every problem: thin
 * wrappers over checkTargetConfigs (check.ts), which returns the problems as data. The
 * shapes live in types.ts, the rules in validate.ts. No zod here (config.ts adds the zod schema
 * for code that wants one): core's index imports this module.
 */
import { describeValue } from "../contract/describe-value.js";
import { checkTargetConfigs, configsOf, formatProblems } from "./check.js";
import type { TargetConfig } from "./types.js";
import { DbHealthError } from "../contract/errors.js";
import { driverRegistry } from "../contract/registry.js";

export { DEFAULTS, type CustomCheckConfig, type CustomCheckOptions, type TargetConfig, type TargetOptions } from "./types.js";

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
  const [config] = resolveAll([input], true);
  // resolveAll returns one config per input or throws.
  return config as TargetConfig;
}

/**
 * Validates several targets at once: every problem of every target is reported in one
 * error (paths start with `targets[i]`), missing names are derived from the engine
 * (`postgres`, `postgres-2`…), and two targets with one name are an error naming both.
 * For the problems as data, see {@link checkTargetConfigs}.
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
  return resolveAll(inputs, false);
}

function resolveAll(inputs: readonly unknown[], single: boolean): TargetConfig[] {
  const check = checkTargetConfigs(inputs);
  const { problems, secrets } = check;
  if (problems.length > 0) throw new DbHealthError("config", formatProblems(problems, { single, secrets }), { secrets });
  // The engine is the name of the driver registered for the scheme, as the driver will report it
  // (`db_name`); a scheme no driver serves yet is named by the built-in table.
  return configsOf(check, (i) => {
    const scheme = check.targets[i]!.dsn!.scheme;
    return driverRegistry.get(scheme)?.name ?? engineForScheme(scheme);
  });
}
