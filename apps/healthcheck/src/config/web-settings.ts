/**
 * The exporter's own HTTP settings added for Prometheus' side of the contract: the path of the
 * metrics endpoint, the offset taken off a scrape's timeout, and the runtime metrics switch.
 */
import type { CliPlan } from "../cli-plan.js";
import { ENV_VARS, type EnvInput } from "./env.js";
import type { FlagInput } from "./flags.js";
import { boundedDuration, onUnlessOff, picker } from "./pick.js";
import { quote, type Problems } from "./problems.js";
import { DEFAULT_TELEMETRY_PATH, DEFAULT_TIMEOUT_OFFSET_MS } from "./settings.js";
import type { YamlConfig } from "./yaml-file.js";

/** The part of the plan this module resolves. */
export type WebSettings = Pick<CliPlan, "telemetryPath" | "timeoutOffsetMs" | "runtimeMetrics">;

/** Paths the server answers itself: the metrics endpoint cannot take one of them. */
export const RESERVED_PATHS = ["/", "/probe", "/healthz", "/readyz", "/health"] as const;

const TIMEOUT_OFFSET_MAX_MS = 60_000;
// Letters, digits and - . _ ~ / (unreserved URL characters): compared with the request path as
// sent, so nothing that a client would percent-encode, and no query or fragment.
const PATH = /^\/[A-Za-z0-9._~/-]{0,255}$/;

/**
 * Resolves `--web.telemetry-path`, `--web.timeout-offset` and `--no-runtime-metrics` (flag >
 * variable > YAML > default); problems name their source.
 *
 * @example
 * ```ts
 * resolveWebSettings(flags, vars, file, problems); // { telemetryPath: "/metrics", timeoutOffsetMs: 500, runtimeMetrics: true }
 * ```
 */
export function resolveWebSettings(flags: FlagInput, vars: EnvInput, file: YamlConfig | undefined, problems: Problems): WebSettings {
  const pick = picker(file);
  let telemetryPath: string = DEFAULT_TELEMETRY_PATH;
  const pathValue = pick(flags.telemetryPath, "--web.telemetry-path", vars.telemetryPath, ENV_VARS.telemetryPath, "telemetryPath");
  if (pathValue) {
    const [value, where] = pathValue;
    const problem = telemetryPathProblem(value);
    if (problem) problems.add(where, problem);
    else telemetryPath = value as string;
  }

  let timeoutOffsetMs = DEFAULT_TIMEOUT_OFFSET_MS;
  const offsetValue = pick(flags.timeoutOffset, "--web.timeout-offset", vars.timeoutOffset, ENV_VARS.timeoutOffset, "timeoutOffset");
  if (offsetValue) timeoutOffsetMs = boundedDuration(offsetValue[0], offsetValue[1], 0, TIMEOUT_OFFSET_MAX_MS, "between 0 and 1m", problems) ?? timeoutOffsetMs;

  const runtimeMetrics = onUnlessOff(flags.runtimeMetrics, vars.runtimeMetrics, file, "runtimeMetrics", problems);
  return { telemetryPath, timeoutOffsetMs, runtimeMetrics };
}

function telemetryPathProblem(value: unknown): string | undefined {
  if (typeof value !== "string" || !PATH.test(value)) {
    return `must be a path such as /metrics: "/" then up to 255 letters, digits, "-", ".", "_", "~" or "/", got ${quote(value)}`;
  }
  if ((RESERVED_PATHS as readonly string[]).includes(value)) return `${value} is another endpoint of the exporter (${RESERVED_PATHS.join(", ")}): pick another path, e.g. /metrics`;
  return undefined;
}
