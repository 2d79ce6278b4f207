import { createRequire } from "node:module";
import {
  createDriver,
  DbHealthError,
  errorMessage,
  isDbHealthError,
  parseDsn,
  resolveTargetConfigs,
  type Driver,
  type DriverDefinition,
  type ParsedDsn,
  type TargetConfig,
} from "@alfred/db-health-core";
import { HelpShown, parseArgs, parseListen } from "./args.js";
import { loadDrivers } from "./driver-loader.js";
import { createLogger } from "./logger.js";
import { EXIT, exitCodeFor, formatJson, formatText } from "./report.js";

/** Where the CLI writes; tests pass their own. */
export interface Io {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  env: NodeJS.ProcessEnv;
  /** Aborts on SIGTERM/SIGINT in the daemon. */
  shutdown: AbortSignal;
}

const VERSION = (createRequire(import.meta.url)("../package.json") as { version: string }).version;

/**
 * Runs the CLI and returns its exit code: 0 healthy, 1 down/degraded (`--once`), 3 invalid
 * configuration. Never throws and never prints a stack trace or a password.
 *
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, shutdown });
 * ```
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let drivers: Driver[] = [];
  try {
    const args = parseArgs(argv, VERSION, io.env);
    if (args.command.length > 0) {
      io.stderr.write("healthcheck: wrapper mode (-- command) is not available in this version; run the command separately\n");
      return EXIT.config;
    }
    if (args.dsns.length === 0) {
      io.stderr.write("healthcheck: no database to probe: pass --dsn DSN (or set DB_HEALTH_DSN); see healthcheck --help\n");
      return EXIT.config;
    }
    const listen = args.once ? undefined : parseListen(args.listen);
    const { configs, definitions } = await resolveTargets(args.dsns, args.target, args.plugins);
    drivers = configs.map((config, i) => createDriver(config, { definition: definitions[i]! }));

    if (args.once) {
      const results = await Promise.all(drivers.map((d) => d.probe(io.shutdown)));
      if (io.shutdown.aborted) {
        io.stderr.write("healthcheck: interrupted before every target was probed\n");
        return EXIT.unhealthy;
      }
      io.stdout.write(args.format === "json" ? formatJson(results) : formatText(results));
      return exitCodeFor(results, args.degradedOk);
    }
    const { runDaemon } = await import("./daemon.js");
    await runDaemon({
      drivers,
      listen: listen!,
      legacyMetrics: args.legacyMetrics,
      version: VERSION,
      log: createLogger(io.stderr),
      signal: io.shutdown,
    });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof HelpShown) return EXIT.ok;
    if (isDbHealthError(err) && err.kind === "config") {
      io.stderr.write(`healthcheck: invalid configuration:\n${indent(err.message)}\n`);
      return EXIT.config;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") {
      io.stderr.write(`healthcheck: cannot listen for --export-prom: ${errorMessage(err)}\n`);
      return EXIT.config;
    }
    io.stderr.write(`healthcheck: ${errorMessage(err)}\n`);
    return EXIT.unhealthy;
  } finally {
    await Promise.allSettled(drivers.map((d) => d.close()));
  }
}

/**
 * Validates every target — settings, DSN syntax, driver availability and what the driver
 * accepts — and reports all problems in one error, before anything connects.
 */
async function resolveTargets(
  dsns: readonly string[],
  settings: Record<string, unknown>,
  plugins: readonly string[],
): Promise<{ configs: TargetConfig[]; definitions: DriverDefinition[] }> {
  const problems: string[] = [];
  const collect = (err: unknown, prefix = ""): void => {
    if (!isDbHealthError(err) || err.kind !== "config") throw err;
    problems.push(...err.message.split("\n").map((line) => prefix + line));
  };
  let configs: TargetConfig[] = [];
  try {
    configs = resolveTargetConfigs(dsns.map((dsn) => ({ ...settings, dsn })));
  } catch (err) {
    collect(err);
  }
  let definitions: Array<DriverDefinition | undefined> = [];
  try {
    definitions = await loadDrivers(dsns, plugins);
  } catch (err) {
    collect(err);
  }
  definitions.forEach((definition, i) => {
    let parsed: ParsedDsn;
    try {
      parsed = parseDsn(dsns[i]!);
    } catch {
      return; // reported by the config check, with its path
    }
    try {
      definition?.validate?.(parsed);
    } catch (err) {
      collect(err, `targets[${i}].dsn: `);
    }
  });
  if (problems.length > 0) throw new DbHealthError("config", [...new Set(problems)].join("\n"));
  return { configs, definitions: definitions as DriverDefinition[] };
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}
