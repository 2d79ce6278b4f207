import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { DbHealthError } from "@alfred/db-health-core";

/** What the command line asks for, before target configs are resolved. */
export interface CliArgs {
  dsns: string[];
  once: boolean;
  format: "text" | "json";
  degradedOk: boolean;
  listen: string;
  legacyMetrics: boolean;
  plugins: string[];
  /** Per-target settings from flags, in `TargetOptions` shape (durations still strings). */
  target: Record<string, unknown>;
  /** `-- command args…`: wrapper mode. */
  command: string[];
}

/** Thrown for `--help` / `--version`: output was printed, exit 0. */
export class HelpShown extends Error {}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * Parses argv (without the node and script entries). Throws {@link DbHealthError} of kind
 * `config` for bad usage, {@link HelpShown} after printing help.
 */
export function parseArgs(argv: readonly string[], version: string, env: NodeJS.ProcessEnv = process.env): CliArgs {
  const program = new Command("healthcheck")
    .description("Probe databases (connect, ping, write, read back) and export the results to Prometheus.")
    .usage("[options]")
    .version(version, "-V, --version")
    .option("--dsn <dsn>", "database to probe (repeatable); env DB_HEALTH_DSN or DB_HEALTH_DSN_FILE", collect, [])
    .option("--once", "probe every target once, print the result and exit (0 up, 1 down/degraded, 3 bad config)", false)
    .addOption(new Option("--format <format>", "output of --once").choices(["text", "json"]).default("text"))
    .option("--degraded-ok", "with --once, exit 0 when degraded", false)
    .option("--export-prom <[host]:port>", "where to serve /metrics and /healthz", ":9091")
    .option("--no-legacy-metrics", "drop the legacy names db_read_latency_ms, db_write_latency_ms, db_connection_count")
    .option("--plugin <package>", "import a third-party driver package (repeatable)", collect, [])
    .option("--interval <duration>", "time between probe cycles, e.g. 15s")
    .option("--connect-timeout <duration>", "deadline of the connect phase, e.g. 5s")
    .option("--read-timeout <duration>", "deadline of ping, role and read phases, e.g. 2s")
    .option("--write-timeout <duration>", "deadline of the write phase, e.g. 2s")
    .option("--max-retries <n>", "connect/ping retries before a target is down")
    .option("--retry-interval <duration>", "pause between retries, e.g. 1s")
    .addOption(new Option("--role <role>", "expected role").choices(["auto", "primary", "replica"]))
    .addOption(new Option("--write-check <mode>", "when to write the health row").choices(["auto", "always", "never"]))
    .option("--no-create-health-table", "never CREATE the health table")
    .option("--probe-id <id>", "this prober's row in the health table (default: hostname/target)")
    .option("--prune-after <duration>", "delete other probers' rows not written for this long, e.g. 24h")
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });

  const dashdash = argv.indexOf("--");
  const own = dashdash === -1 ? argv : argv.slice(0, dashdash);
  const command = dashdash === -1 ? [] : argv.slice(dashdash + 1);
  try {
    program.parse([...own], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help") throw new HelpShown();
      throw new DbHealthError("config", `${err.message.replace(/^error: /, "")} (see healthcheck --help)`);
    }
    throw err;
  }
  const o = program.opts();
  const dsns: string[] = [...(o.dsn as string[])];
  if (dsns.length === 0 && env.DB_HEALTH_DSN) dsns.push(env.DB_HEALTH_DSN);
  else if (dsns.length === 0 && env.DB_HEALTH_DSN_FILE) dsns.push(readSecretFile(env.DB_HEALTH_DSN_FILE, "DB_HEALTH_DSN_FILE"));
  const target: Record<string, unknown> = {};
  const map: Array<[string, string, (v: string) => unknown]> = [
    ["interval", "interval", String],
    ["connectTimeout", "connectTimeout", String],
    ["readTimeout", "readTimeout", String],
    ["writeTimeout", "writeTimeout", String],
    ["maxRetries", "maxRetries", (v) => (/^\d+$/.test(v) ? Number(v) : v)],
    ["retryInterval", "retryInterval", String],
    ["role", "role", String],
    ["writeCheck", "writeCheck", String],
    ["probeId", "probeId", String],
    ["pruneAfter", "pruneAfter", String],
  ];
  for (const [flag, key, convert] of map) if (o[flag] !== undefined) target[key] = convert(o[flag] as string);
  if (o.createHealthTable === false) target.createHealthTable = false;
  return {
    dsns,
    once: o.once as boolean,
    format: o.format as "text" | "json",
    degradedOk: o.degradedOk as boolean,
    listen: o.exportProm as string,
    legacyMetrics: o.legacyMetrics as boolean,
    plugins: o.plugin as string[],
    target,
    command,
  };
}

/**
 * Splits `[host]:port` as the original design writes it (`:9091` = every interface).
 *
 * @example
 * ```ts
 * parseListen(":9091"); // { host: undefined, port: 9091 }
 * parseListen("[::1]:9100"); // { host: "::1", port: 9100 }
 * ```
 */
export function parseListen(value: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new DbHealthError("config", `--export-prom "${value}" is not [host]:port, e.g. :9091 or 127.0.0.1:9091`);
  }
  const host = m[1] ?? (m[2] || undefined);
  return { host, port };
}

/** Reads a Docker-secret style file (`*_FILE` variables); the trailing newline is not part of the value. */
export function readSecretFile(path: string, variable: string): string {
  try {
    return readFileSync(path, "utf8").replace(/\r?\n$/, "");
  } catch (err) {
    throw new DbHealthError("config", `${variable}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
  }
}
