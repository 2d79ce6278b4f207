/**
 * Picking one process-wide setting from its sources, flag > variable > YAML key, with the label
 * of the source that set it, so that a problem names the place to edit.
 */
import { parseDuration } from "@alfred/db-health-core";
import { quote, type Problems } from "./problems.js";
import type { YamlConfig } from "./yaml-file.js";

/** A value with where it came from; `inFile` when the YAML file set it (relative paths). */
export type Picked = [value: unknown, where: string, inFile?: true];

/** Picks a setting from the first source that sets it. */
export type Pick = (flag: string | undefined, flagName: string, env: string | undefined, envName: string, key: keyof YamlConfig["top"]) => Picked | undefined;

/**
 * The {@link Pick} for one configuration file (or none).
 *
 * @example
 * ```ts
 * const pick = picker(file);
 * pick(flags.logLevel, "--log-level", vars.logLevel, "DB_HEALTH_LOG_LEVEL", "logLevel"); // ["debug", "--log-level"]
 * ```
 */
export function picker(file: YamlConfig | undefined): Pick {
  const top = file?.top ?? {};
  return (flag, flagName, env, envName, key) =>
    flag !== undefined ? [flag, flagName] : env !== undefined ? [env, envName] : key in top ? [top[key], file!.where([key]), true] : undefined;
}

/**
 * A boolean that is on by default and that a `--no-…` flag, a variable or a YAML key turns off
 * (a variable or the key may also say `true`).
 *
 * @example
 * ```ts
 * onUnlessOff(flags.runtimeMetrics, vars.runtimeMetrics, file, "runtimeMetrics", problems); // true
 * ```
 */
export function onUnlessOff(flag: false | undefined, env: boolean | undefined, file: YamlConfig | undefined, key: "legacyMetrics" | "runtimeMetrics", problems: Problems): boolean {
  if (flag === false) return false;
  if (env !== undefined) return env;
  const top = file?.top ?? {};
  if (!(key in top)) return true;
  if (typeof top[key] === "boolean") return top[key];
  problems.add(file!.where([key]), `must be true or false, got ${quote(top[key])}`);
  return true;
}

/**
 * A duration in ms within `[min, max]`, or a problem added under `where`.
 *
 * @example
 * ```ts
 * boundedDuration("2s", "--probe-cache-interval", 100, 3_600_000, "at least 100ms and at most 1h", problems); // 2000
 * ```
 */
export function boundedDuration(value: unknown, where: string, min: number, max: number, range: string, problems: Problems): number | undefined {
  const ms = duration(value);
  if (ms !== undefined && ms >= min && ms <= max) return ms;
  problems.add(where, ms === undefined ? `invalid duration ${quote(value)}: use a number with a unit, e.g. 500ms, 2s, 1m` : `must be ${range}`);
  return undefined;
}

function duration(value: unknown): number | undefined {
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  try {
    return parseDuration(value);
  } catch {
    return undefined;
  }
}
