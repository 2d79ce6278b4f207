import { guardAdapter } from "../contract/adapter-guard.js";
import { checkTargetConfigs, formatProblems } from "../config/check.js";
import type { TargetConfig, TargetOptions } from "../config/types.js";
import { describeDsn } from "../dsn/dsn.js";
import { DbHealthError, errorMessage, isDbHealthError, redactError } from "../contract/errors.js";
import { createRedactor } from "../redact/redact.js";
import { driverRegistry, type DriverRegistry } from "../contract/registry.js";
import { ConnectionWatch } from "./connection-watch.js";
import { ProbeDriver } from "./probe-driver.js";
import { Session } from "./session.js";
import type { DriverAdapter } from "../contract/driver-adapter.js";
import type { DriverDefinition } from "../contract/driver-definition.js";
import type { ProbeResult } from "../contract/probe-result.js";
import { isResolvedTarget, planTargets, type ResolvedTarget } from "../config/target-plan.js";
import type { Driver } from "./driver-types.js";

export type { ConnectionLostEvent, Driver, ProbeOptions } from "./driver-types.js";

/** Options for {@link createDriver}, used when it is given options rather than a {@link ResolvedTarget}. */
export interface CreateDriverOptions {
  /** Registry to look the scheme up in. @default the process-wide `driverRegistry` */
  registry?: DriverRegistry;
  /** Use this definition instead of looking the scheme up. */
  definition?: DriverDefinition;
}

/**
 * Creates the driver for one target. Does not connect. Given options (or a `TargetConfig`), it
 * validates them first (every problem in one error) and picks the driver registered for the
 * DSN's scheme; given a {@link ResolvedTarget} from `planTargets` or `retarget`, it takes the
 * plan as it is: nothing is validated, parsed or looked up again (`createOptions` is unused).
 *
 * @example
 * ```ts
 * import "@alfred/db-health-driver-sqlite";
 * import { createDriver } from "@alfred/db-health-core";
 *
 * const driver = createDriver({ dsn: "file:app.db?mode=rwc", readTimeout: "500ms" });
 * const result = await driver.probe();
 * console.log(result.status, result.phases.write?.ms);
 * await driver.close();
 * ```
 */
export function createDriver(options: TargetOptions | TargetConfig | ResolvedTarget, createOptions: CreateDriverOptions = {}): Driver {
  const { config: resolved, dsn, definition, secrets } = isResolvedTarget(options) ? options : resolveOne(options, createOptions);
  const redactText = createRedactor(secrets);
  let adapter: DriverAdapter;
  let config = resolved;
  // The adapter may keep this callback from creation on; it reaches the watch made below.
  let connectionLost = (_reason: string): void => undefined;
  try {
    config = tightenTimeouts(resolved, definition.timeoutsFromDsn?.(dsn));
    const target = { config, dsn, redact: redactText, connectionLost: (reason: string) => connectionLost(reason) };
    adapter = guardAdapter(definition.createAdapter(target), definition);
  } catch (err) {
    const cause = redactError(err, redactText);
    if (isDbHealthError(err)) throw new DbHealthError(err.kind, `${config.name}: ${redactText(err.message)}`, { driver: definition.name, cause });
    throw new DbHealthError("config", `${config.name}: ${definition.name} driver rejected the target: ${redactText(errorMessage(err))}`, {
      driver: definition.name,
      cause,
    });
  }
  const session = new Session(adapter, definition.name, redactText);
  const watch = new ConnectionWatch(session, config.name, definition.name);
  connectionLost = watch.report;
  return new ProbeDriver(config, definition, session, watch, describeDsn(config.dsn));
}

/** Options as a library user gives them: validated (problems named as in resolveTargetConfig), then the driver looked up once. */
function resolveOne(options: unknown, createOptions: CreateDriverOptions): ResolvedTarget {
  const check = checkTargetConfigs([options]);
  const { problems, secrets } = check;
  if (problems.length > 0) throw new DbHealthError("config", formatProblems(problems, { single: true, secrets }), { secrets });
  const { dsn } = check.targets[0]!;
  const registry = createOptions.registry ?? driverRegistry;
  // resolve() only for its error, which names the DSN and the schemes registered.
  const definition = createOptions.definition ?? registry.get(dsn!.scheme) ?? registry.resolve((options as TargetOptions).dsn);
  return planTargets(check, [definition])[0]!;
}

function tightenTimeouts(config: TargetConfig, limits: Partial<Record<"connectTimeout" | "readTimeout" | "writeTimeout", number>> | undefined): TargetConfig {
  if (!limits) return config;
  const out = { ...config };
  for (const key of ["connectTimeout", "readTimeout", "writeTimeout"] as const) {
    const limit = limits[key];
    if (limit !== undefined && limit > 0 && limit < out[key]) out[key] = limit;
  }
  return out;
}
