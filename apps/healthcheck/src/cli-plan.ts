import type { ResolvedTarget, TargetOptions } from "@alfred/db-health-core";
import type { DiscoveryModule } from "./discovery/module.js";

/** What the user asked the CLI to do, after flags, environment and the YAML file are merged. */
export type CliMode = "daemon" | "once" | "config-check" | "status";

/**
 * The fully merged, validated command line: flags > environment variables > YAML file >
 * defaults, each target resolved once. Produced by `resolveCli()` (config/resolve.ts); `--once`,
 * `config check`, the daemon and its `/probe` all run from it without resolving anything again.
 */
export interface CliPlan {
  mode: CliMode;
  /**
   * Each target resolved by core: every setting (defaults applied, name and probe id derived),
   * its DSN parsed, the driver serving it. Empty when resolveCli ran without `checkDrivers`.
   */
  targets: ResolvedTarget[];
  /** The targets' options as the sources set them, before core's defaults (the input of `targets`). */
  targetOptions: TargetOptions[];
  /**
   * The YAML file's `modules:`, for discovered targets (`/probe?module=NAME&target=HOST:PORT[/DB]`),
   * validated, each with its plan (`target`, unless drivers were not checked); each module's
   * password read from its `passwordFile`. Empty without any.
   */
  modules: DiscoveryModule[];
  /** Third-party driver packages (or paths) to import before resolving DSNs. */
  plugins: string[];
  /** `--export-prom [host]:port` @default ":9091" */
  listen: { host: string | undefined; port: number };
  /**
   * Where `listen` came from, for messages: `--export-prom` (or `--web.listen-address`),
   * `DB_HEALTH_LISTEN` or the YAML key with its line. @default "--export-prom"
   */
  listenFrom?: string;
  /** `--web.telemetry-path`: the path of the metrics endpoint. @default "/metrics" */
  telemetryPath: string;
  /** `--web.timeout-offset`: taken off a scrape's X-Prometheus-Scrape-Timeout-Seconds (ms). @default 500 */
  timeoutOffsetMs: number;
  /** Export prom-client's process_* and nodejs_* collectors. @default true */
  runtimeMetrics: boolean;
  /** Prometheus exporter-toolkit web config file (TLS, basic auth), if any. */
  webConfigFile?: string;
  /** `--once` output. @default "text" */
  format: "text" | "json";
  /** `--once`: degraded exits 0. @default false */
  degradedOk: boolean;
  /** Bounds of db_probe_duration_seconds (s), ascending; `undefined` for core's default. */
  durationBuckets?: number[];
  /** Keep db_read_latency_ms & co. @default true */
  legacyMetrics: boolean;
  /** Log level of the daemon's JSON logs. @default "info" */
  logLevel: "debug" | "info" | "warn" | "error";
  /** `/probe?target=` answers from a result younger than this (ms). @default 5000 */
  probeCacheMs: number;
  /** Wrapper mode: the command after `--`. Empty when not wrapping. */
  command: string[];
  /** `config check FILE` / `status`: the file or URL argument, when given. */
  argument?: string;
  /** Unsafe but workable findings (e.g. a world-readable file with passwords); free of secrets. */
  warnings: string[];
}
