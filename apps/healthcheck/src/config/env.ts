/**
 * The `DB_HEALTH_*` environment variables: the configuration channel of containers, where
 * flags are baked into an image and the deployment only sets variables.
 */
import { convertSetting, parseBool, TARGET_SETTINGS, type TargetKey } from "./settings.js";
import { envSecret } from "./secrets.js";
import { fixed, quote, type Problems, type Where } from "./problems.js";

/** What the environment sets; each value with where it came from. */
export interface EnvInput {
  /** `DB_HEALTH_DSN`, or the content of `DB_HEALTH_DSN_FILE`: one target. */
  dsn?: { value: string; where: Where };
  /** `DB_HEALTH_DSN` or `DB_HEALTH_DSN_FILE` is set, even if it could not be read. */
  dsnGiven: boolean;
  /** `DB_HEALTH_CONFIG`: the YAML file. */
  config?: string;
  /** Per-target overrides, converted (counts are numbers, booleans booleans). */
  target: Partial<Record<TargetKey, { value: unknown; where: Where }>>;
  listen?: string;
  webConfig?: string;
  logLevel?: string;
  probeCacheInterval?: string;
  legacyMetrics?: boolean;
  runtimeMetrics?: boolean;
  durationBuckets?: string;
  telemetryPath?: string;
  timeoutOffset?: string;
  /** `DB_HEALTH_PLUGINS`, split on commas. */
  plugins: string[];
}

/**
 * Names of every variable the CLI reads, for docs/cli.md and `--help`. The `*_FILE` form of each
 * secret holds a path whose content (one trailing newline dropped) is the value.
 */
export const ENV_VARS = {
  dsn: "DB_HEALTH_DSN",
  config: "DB_HEALTH_CONFIG",
  listen: "DB_HEALTH_LISTEN",
  webConfig: "DB_HEALTH_WEB_CONFIG",
  logLevel: "DB_HEALTH_LOG_LEVEL",
  probeCacheInterval: "DB_HEALTH_PROBE_CACHE_INTERVAL",
  legacyMetrics: "DB_HEALTH_LEGACY_METRICS",
  runtimeMetrics: "DB_HEALTH_RUNTIME_METRICS",
  durationBuckets: "DB_HEALTH_DURATION_BUCKETS",
  telemetryPath: "DB_HEALTH_TELEMETRY_PATH",
  timeoutOffset: "DB_HEALTH_TIMEOUT_OFFSET",
  plugins: "DB_HEALTH_PLUGINS",
} as const;

/**
 * Label of a per-target override: the source, plus the YAML key when the source's name does not
 * already spell it, so that a message always names the setting it is about.
 *
 * @example
 * ```ts
 * settingLabel("DB_HEALTH_READ_TIMEOUT", "readTimeout"); // "DB_HEALTH_READ_TIMEOUT (readTimeout)"
 * settingLabel("--interval", "interval");                // "--interval"
 * ```
 */
export function settingLabel(source: string, key: string): string {
  return source.includes(key) ? source : `${source} (${key})`;
}

/**
 * Reads the `DB_HEALTH_*` variables. Empty variables count as unset (compose files often pass
 * `VAR: ""` to clear one). `DB_HEALTH_DSN` is one DSN, never split: DSNs may contain commas.
 *
 * @example
 * ```ts
 * const vars = readEnv({ DB_HEALTH_DSN: "file:app.db", DB_HEALTH_MAX_RETRIES: "1" }, problems);
 * vars.target.maxRetries?.value; // 1
 * ```
 */
export function readEnv(env: NodeJS.ProcessEnv, problems: Problems): EnvInput {
  const get = (name: string): string | undefined => env[name] || undefined;
  const out: EnvInput = { target: {}, plugins: [], dsnGiven: Boolean(get(ENV_VARS.dsn) ?? get(`${ENV_VARS.dsn}_FILE`)) };

  // Not a secret as a whole: its password is remembered once the DSN is parsed (targets.ts).
  const dsn = envSecret(env, ENV_VARS.dsn, problems, false);
  if (dsn) {
    const path = env[`${ENV_VARS.dsn}_FILE`];
    out.dsn = { value: dsn.value, where: fixed(dsn.where === ENV_VARS.dsn ? dsn.where : `${dsn.where} (${path})`) };
  }
  for (const s of TARGET_SETTINGS) {
    const text = get(s.env);
    if (text === undefined) continue;
    const where = fixed(settingLabel(s.env, s.key));
    const converted = convertSetting(s.kind, text);
    if ("problem" in converted) problems.add(where(), converted.problem);
    else out.target[s.key] = { value: converted.value, where };
  }

  out.config = get(ENV_VARS.config);
  out.listen = get(ENV_VARS.listen);
  out.webConfig = get(ENV_VARS.webConfig);
  out.logLevel = get(ENV_VARS.logLevel);
  out.probeCacheInterval = get(ENV_VARS.probeCacheInterval);
  out.telemetryPath = get(ENV_VARS.telemetryPath);
  out.timeoutOffset = get(ENV_VARS.timeoutOffset);
  out.durationBuckets = get(ENV_VARS.durationBuckets);
  for (const key of ["legacyMetrics", "runtimeMetrics"] as const) {
    const text = get(ENV_VARS[key]);
    if (text === undefined) continue;
    out[key] = parseBool(text);
    if (out[key] === undefined) problems.add(ENV_VARS[key], `must be true or false, got ${quote(text)}`);
  }
  out.plugins = (get(ENV_VARS.plugins) ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  return out;
}
