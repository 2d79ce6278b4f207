/**
 * Process-wide settings (listen address, web config, logging, /probe cache, metric names,
 * plugins; the metrics path, timeout offset and runtime metrics in web-settings.ts): each taken
 * from the first source that sets it, flag > variable > YAML > default.
 */
import { accessSync, constants } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { checkListen, LISTEN_HINT, readListen } from "../args.js";
import type { CliPlan } from "../cli-plan.js";
import { ENV_VARS } from "./env.js";
import type { EnvInput } from "./env.js";
import type { FlagInput } from "./flags.js";
import { quote, type Problems } from "./problems.js";
import { checkFileSync, UnreadableFile } from "@alfred/db-health-core";
import { FILE_LIMITS } from "./limits.js";
import { boundedDuration, onUnlessOff, picker } from "./pick.js";
import { DEFAULT_LISTEN, DEFAULT_PROBE_CACHE_MS, FINE_DURATION_BUCKETS, LOG_LEVELS } from "./settings.js";
import { resolveWebSettings, type WebSettings } from "./web-settings.js";
import type { YamlConfig } from "./yaml-file.js";

/** The part of the plan that does not depend on the mode or the targets. */
export type Globals = Pick<CliPlan, "plugins" | "listen" | "listenFrom" | "webConfigFile" | "format" | "degradedOk" | "legacyMetrics" | "durationBuckets" | "logLevel" | "probeCacheMs"> & WebSettings;

const PROBE_CACHE_MIN = 100;
const PROBE_CACHE_MAX = 3_600_000;

/**
 * Picks and checks every process-wide setting; problems name the source that set the value.
 *
 * @example
 * ```ts
 * const globals = resolveGlobals(flags, vars, file, problems);
 * globals.listen; // { host: undefined, port: 9091 }
 * ```
 */
export function resolveGlobals(flags: FlagInput, vars: EnvInput, file: YamlConfig | undefined, problems: Problems): Globals {
  const pick = picker(file);
  const listenFlag = flags.listenFlag ?? "--export-prom";
  const listenValue = pick(flags.listen, listenFlag, vars.listen, ENV_VARS.listen, "listen");
  let listen = readListen(DEFAULT_LISTEN)!;
  const listenFrom = listenValue?.[1] ?? "--export-prom";
  if (listenValue) {
    const [value, where] = listenValue;
    // A bare port number in YAML (`listen: 9091`) means every interface, as ":9091" does.
    const text = typeof value === "number" ? `:${value}` : value;
    const parsed = typeof text === "string" ? checkListen(text) : { problem: `${quote(text)} ${LISTEN_HINT}` };
    if ("problem" in parsed) problems.add(where, parsed.problem);
    else listen = parsed;
  }

  const format = flags.format ?? "text";
  if (format !== "text" && format !== "json") problems.add("--format", `must be text or json, got ${quote(format)}`);

  const levelValue = pick(flags.logLevel, "--log-level", vars.logLevel, ENV_VARS.logLevel, "logLevel");
  let logLevel: CliPlan["logLevel"] = "info";
  if (levelValue) {
    const [value, where] = levelValue;
    if ((LOG_LEVELS as readonly unknown[]).includes(value)) logLevel = value as CliPlan["logLevel"];
    else problems.add(where, `must be one of ${LOG_LEVELS.join(", ")}, got ${quote(value)}`);
  }

  let probeCacheMs = DEFAULT_PROBE_CACHE_MS;
  const cacheValue = pick(flags.probeCacheInterval, "--probe-cache-interval", vars.probeCacheInterval, ENV_VARS.probeCacheInterval, "probeCacheInterval");
  // The cache is what keeps a scrape storm off the database: it cannot be switched off.
  if (cacheValue) probeCacheMs = boundedDuration(cacheValue[0], cacheValue[1], PROBE_CACHE_MIN, PROBE_CACHE_MAX, "at least 100ms and at most 1h", problems) ?? probeCacheMs;

  const legacyMetrics = onUnlessOff(flags.legacyMetrics, vars.legacyMetrics, file, "legacyMetrics", problems);
  const bucketsValue = pick(flags.durationBuckets, "--duration-buckets", vars.durationBuckets, ENV_VARS.durationBuckets, "durationBuckets");
  const durationBuckets = bucketsValue ? readBuckets(bucketsValue[0], bucketsValue[1], problems) : undefined;

  const webValue = pick(flags.webConfig, flags.webConfigFlag ?? "--web-config", vars.webConfig, ENV_VARS.webConfig, "webConfig");
  let webConfigFile: string | undefined;
  if (webValue) {
    const [value, where, inFile] = webValue;
    webConfigFile = readablePath(value, where, inFile ? file?.dir : undefined, problems);
  }

  return {
    plugins: plugins(flags, vars, file, problems),
    listen,
    listenFrom,
    webConfigFile,
    format: format as CliPlan["format"],
    degradedOk: flags.degradedOk,
    legacyMetrics,
    ...(durationBuckets ? { durationBuckets } : {}),
    logLevel,
    probeCacheMs,
    ...resolveWebSettings(flags, vars, file, problems),
  };
}

/** Most bounds `--duration-buckets` takes: each adds four lines per target to /metrics. */
const MAX_BUCKETS = 30;

/**
 * `--duration-buckets`: `fine`, or bounds in seconds (`0.01,0.1,1` from a flag or variable, a
 * list of numbers in YAML), returned ascending; `undefined` with a problem added otherwise.
 */
function readBuckets(value: unknown, where: string, problems: Problems): number[] | undefined {
  if (value === "fine") return [...FINE_DURATION_BUCKETS];
  const items = typeof value === "string" ? value.split(",").map((s) => s.trim()) : Array.isArray(value) ? (value as unknown[]) : [value];
  const bounds = items.map((item) => (typeof item === "number" ? item : typeof item === "string" && /^\d*\.?\d+(?:e[-+]?\d+)?$/i.test(item) ? Number(item) : NaN));
  const wrong = items.find((_, i) => !(Number.isFinite(bounds[i]) && bounds[i]! > 0));
  if (items.length === 0 || wrong !== undefined) {
    problems.add(where, `${wrong === undefined ? "no bounds given" : `${quote(wrong)} is not a number of seconds above 0`}: give fine, or bounds in seconds separated by commas, e.g. 0.01,0.1,1`);
    return undefined;
  }
  const sorted = [...new Set(bounds)].sort((a, b) => a - b);
  if (sorted.length !== bounds.length) problems.add(where, "names a bound twice");
  else if (sorted.length > MAX_BUCKETS) problems.add(where, `at most ${MAX_BUCKETS} bounds (each adds four lines per target to /metrics), got ${sorted.length}`);
  else return sorted;
  return undefined;
}

/** Plugins from every source, in order, without repeats: each one only adds DSN schemes. */
function plugins(flags: FlagInput, vars: EnvInput, file: YamlConfig | undefined, problems: Problems): string[] {
  const out: string[] = [];
  const add = (name: string, dir: string | undefined, where: string): void => {
    const value = dir !== undefined && isPathLike(name) && !isAbsolute(name) ? resolve(dir, name) : isPathLike(name) ? resolve(name) : name;
    // Node's loader would open a FIFO and wait for a writer, or read /dev/zero until memory runs
    // out: such a file is refused here and never imported. (A missing file is reported by the
    // driver loader, which says "no such file".)
    const refused = isPathLike(name) ? pluginFileProblem(value) : undefined;
    if (refused) problems.add(where, refused);
    else if (!out.includes(value)) out.push(value);
  };
  for (const p of flags.plugins) add(p, undefined, "--plugin");
  for (const p of vars.plugins) add(p, undefined, ENV_VARS.plugins);
  const listed = file?.top.plugins;
  if (listed === undefined || listed === null) return out;
  if (!Array.isArray(listed) || !listed.every((p) => typeof p === "string" && p !== "")) {
    problems.add(file!.where(["plugins"]), 'must be a list of package names or paths, e.g. ["@acme/db-health-driver-x"]');
  } else (listed as string[]).forEach((p, i) => add(p, file!.dir, file!.where(["plugins", i])));
  return out;
}

function pluginFileProblem(path: string): string | undefined {
  try {
    checkFileSync(path);
    return undefined;
  } catch (err) {
    if (!(err instanceof UnreadableFile) || err.detail === "ENOENT") return undefined;
    return `cannot import ${JSON.stringify(path)}: ${err.detail}`;
  }
}

/** `./x.mjs`, `../x`, `/abs/x`: a file to import rather than a package name. */
function isPathLike(name: string): boolean {
  return /^\.{1,2}([\\/]|$)/.test(name) || isAbsolute(name);
}

/**
 * A path that must name a readable web config file (a regular file within its size limit, so
 * that `config check` reports a FIFO or a device too); relative to `dir` when it came from the
 * YAML file. Its content is read and checked when the daemon starts.
 */
function readablePath(value: unknown, where: string, dir: string | undefined, problems: Problems): string | undefined {
  if (typeof value !== "string" || value === "") {
    problems.add(where, `must be the path of a file, got ${quote(value)}`);
    return undefined;
  }
  const path = dir !== undefined && !isAbsolute(value) ? resolve(dir, value) : value;
  try {
    checkFileSync(path, FILE_LIMITS.webConfig);
    accessSync(path, constants.R_OK);
    return path;
  } catch (err) {
    problems.add(where, err instanceof UnreadableFile ? err.message : `cannot read ${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
    return undefined;
  }
}
