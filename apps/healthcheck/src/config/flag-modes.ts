/**
 * Flags that only some modes read. Given on the command line to a mode that would ignore them
 * (`--format json` without `--once`, `--export-prom` with `--once`, `--dsn` with `status`), they
 * are a configuration error instead: the user asked for something that would silently not
 * happen. Environment variables and YAML keys are shared by every mode (a container sets them
 * once for its daemon and its HEALTHCHECK), so they are never held against a mode.
 */
import type { CliMode } from "../cli-plan.js";

// commander's attribute names (`--degraded-ok` → degradedOk, `--no-legacy-metrics` → legacyMetrics).
const ONCE_ONLY = new Set(["format", "degradedOk"]);
const DAEMON_ONLY = new Set([
  "exportProm",
  "web.listenAddress",
  "webConfig",
  "web.config.file",
  "web.telemetryPath",
  "web.timeoutOffset",
  "logLevel",
  "probeCacheInterval",
  "legacyMetrics",
  "runtimeMetrics",
  "durationBuckets",
]);
/** What `status` reads without a URL: the daemon's listen address, maybe from the file's `listen:`. */
const STATUS_FINDS_DAEMON = new Set(["exportProm", "web.listenAddress", "config"]);

/**
 * Why a flag given on the command line does not apply to this mode, or `undefined` when it does.
 * `config check` takes every flag a run takes (it checks that run's configuration), except the
 * output options of `--once`, which it cannot be combined with.
 *
 * @param attribute the flag's commander attribute name (`degradedOk` for `--degraded-ok`).
 * @param statusUrl `status` was given a URL: it then needs no listen address either.
 * @example
 * ```ts
 * misplacedFlag("degradedOk", "daemon", false); // "only applies with --once"
 * misplacedFlag("interval", "once", false);     // undefined
 * ```
 */
export function misplacedFlag(attribute: string, mode: CliMode, statusUrl: boolean): string | undefined {
  if (attribute === "once") return undefined; // its own combinations are checked with the commands
  if (mode === "status") {
    if (!STATUS_FINDS_DAEMON.has(attribute)) return 'not used by "status", which only asks a running daemon: drop it';
    return statusUrl ? 'not used by "status" when it is given a URL: drop one of them' : undefined;
  }
  if (ONCE_ONLY.has(attribute) && mode !== "once") return "only applies with --once";
  if (DAEMON_ONLY.has(attribute) && mode === "once") return "does not apply with --once (it configures the daemon): drop it, or drop --once";
  return undefined;
}
