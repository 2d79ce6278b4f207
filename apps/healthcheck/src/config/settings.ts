/**
 * The one table of per-target settings that flags and environment variables can set, so that
 * the flag, its variable, its YAML key, its help text and its default can never drift apart.
 */
import { DEFAULTS, TARGET_KEYS, formatDuration, type TargetOptions } from "@alfred/db-health-core";
import { quote } from "./problems.js";

/** A key of core's {@link TargetOptions}. */
export type TargetKey = keyof TargetOptions;

/** Every key of core's {@link TargetOptions} (core keeps the list complete). */
export { TARGET_KEYS };

/** How a flag or variable's text becomes a value (core validates the value afterwards). */
export type SettingKind = "duration" | "count" | "choice" | "text" | "bool";

/** A per-target setting that a flag and an environment variable override for every target. */
export interface TargetSetting {
  key: TargetKey;
  /** The flag as commander declares it, e.g. `--read-timeout <duration>`. */
  flag: string;
  env: string;
  kind: SettingKind;
  help: string;
  /** Shown in `--help`. */
  shownDefault: string;
}

const d = (ms: number): string => formatDuration(ms);

/**
 * Per-target settings reachable from flags and env, in help order. `thresholds`,
 * `maxReplicationLag`, `healthTable`, `schema`, `cluster` and `checks` are YAML-only: they differ per database.
 *
 * @example
 * ```ts
 * TARGET_SETTINGS.find((s) => s.key === "interval")?.env; // "DB_HEALTH_INTERVAL"
 * ```
 */
export const TARGET_SETTINGS: readonly TargetSetting[] = [
  { key: "interval", flag: "--interval <duration>", env: "DB_HEALTH_INTERVAL", kind: "duration", help: "time between probe cycles (100ms to 24h)", shownDefault: d(DEFAULTS.interval) },
  { key: "connectTimeout", flag: "--connect-timeout <duration>", env: "DB_HEALTH_CONNECT_TIMEOUT", kind: "duration", help: "deadline of the connect phase", shownDefault: d(DEFAULTS.connectTimeout) },
  { key: "readTimeout", flag: "--read-timeout <duration>", env: "DB_HEALTH_READ_TIMEOUT", kind: "duration", help: "deadline of the ping, role and read phases", shownDefault: d(DEFAULTS.readTimeout) },
  { key: "writeTimeout", flag: "--write-timeout <duration>", env: "DB_HEALTH_WRITE_TIMEOUT", kind: "duration", help: "deadline of the write phase", shownDefault: d(DEFAULTS.writeTimeout) },
  { key: "maxRetries", flag: "--max-retries <n>", env: "DB_HEALTH_MAX_RETRIES", kind: "count", help: "extra connect/ping attempts before a target is down (0 to 100)", shownDefault: String(DEFAULTS.maxRetries) },
  { key: "retryInterval", flag: "--retry-interval <duration>", env: "DB_HEALTH_RETRY_INTERVAL", kind: "duration", help: "pause between those attempts", shownDefault: d(DEFAULTS.retryInterval) },
  { key: "role", flag: "--role <role>", env: "DB_HEALTH_ROLE", kind: "choice", help: "expected role: auto, primary or replica; a mismatch is degraded", shownDefault: DEFAULTS.role },
  { key: "writeCheck", flag: "--write-check <mode>", env: "DB_HEALTH_WRITE_CHECK", kind: "choice", help: "auto (write where the role allows), always (a refused write is degraded) or never", shownDefault: DEFAULTS.writeCheck },
  { key: "connection", flag: "--connection <mode>", env: "DB_HEALTH_CONNECTION", kind: "choice", help: "persistent (one connection kept open) or per-cycle (opened and closed in each cycle: nothing held between cycles)", shownDefault: DEFAULTS.connection },
  { key: "createHealthTable", flag: "--no-create-health-table", env: "DB_HEALTH_CREATE_HEALTH_TABLE", kind: "bool", help: "never CREATE the health table", shownDefault: "create" },
  { key: "probeId", flag: "--probe-id <id>", env: "DB_HEALTH_PROBE_ID", kind: "text", help: "this prober's row in the health table", shownDefault: "<hostname>/<target name>" },
  { key: "pruneAfter", flag: "--prune-after <duration>", env: "DB_HEALTH_PRUNE_AFTER", kind: "duration", help: "delete other probers' rows idle this long (at least twice --interval)", shownDefault: d(DEFAULTS.pruneAfter) },
];

/** Keys a YAML target may hold: every TargetOptions key plus the two secret-file keys. */
export const YAML_TARGET_KEYS: readonly string[] = [...TARGET_KEYS, "dsnFile", "passwordFile"];

/**
 * Keys of the YAML `defaults:` block: a target's settings without what identifies it, nor
 * `cluster` (membership is said per target, so that adding a target never joins it by accident).
 */
export const YAML_DEFAULT_KEYS: readonly string[] = TARGET_KEYS.filter((k) => k !== "dsn" && k !== "name" && k !== "cluster");

/** Top-level keys of the YAML file. */
export const YAML_TOP_KEYS = [
  "targets",
  "defaults",
  "modules",
  "plugins",
  "listen",
  "webConfig",
  "logLevel",
  "probeCacheInterval",
  "legacyMetrics",
  "runtimeMetrics",
  "durationBuckets",
  "telemetryPath",
  "timeoutOffset",
] as const;

/** Log levels of the daemon's JSON logs. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/**
 * `--duration-buckets fine`: the fourteen bounds db_probe_duration_seconds had before 1.x's
 * smaller default (core's), 0.5 ms to 10 s, for dashboards that want sub-millisecond detail.
 */
export const FINE_DURATION_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** `--export-prom` default: every interface, port 9091. */
export const DEFAULT_LISTEN = ":9091";

/** `/probe` cache default in ms (the CliPlan contract's default). */
export const DEFAULT_PROBE_CACHE_MS = 5000;

/** `--web.telemetry-path` default: where Prometheus looks unless told otherwise. */
export const DEFAULT_TELEMETRY_PATH = "/metrics";

/**
 * `--web.timeout-offset` default in ms: what blackbox_exporter subtracts from Prometheus' scrape
 * timeout (its `--timeout-offset`, 0.5 s), so the answer is on its way before Prometheus gives up.
 */
export const DEFAULT_TIMEOUT_OFFSET_MS = 500;

/**
 * Turns a flag's or variable's text into the value a target takes. Counts become numbers when
 * they look like integers; anything else stays as written so that core names the bad value.
 *
 * @returns the value, or a problem message for text that is not a boolean.
 * @example
 * ```ts
 * convertSetting("count", "3"); // { value: 3 }
 * convertSetting("bool", "no"); // { value: false }
 * ```
 */
export function convertSetting(kind: SettingKind, text: string): { value: unknown } | { problem: string } {
  if (kind === "count") return { value: /^\s*[+-]?\d+\s*$/.test(text) ? Number(text) : text };
  if (kind === "bool") {
    const b = parseBool(text);
    return b === undefined ? { problem: `must be true or false, got ${quote(text)}` } : { value: b };
  }
  return { value: text };
}

/**
 * Reads the usual spellings of a boolean in environment variables.
 *
 * @example
 * ```ts
 * parseBool("TRUE"); // true
 * parseBool("0");    // false
 * parseBool("maybe"); // undefined
 * ```
 */
export function parseBool(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(t)) return true;
  if (["false", "0", "no", "off"].includes(t)) return false;
  return undefined;
}
