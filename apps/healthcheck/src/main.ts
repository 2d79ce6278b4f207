import { createRequire } from "node:module";
import { createDriver, errorMessage, isDbHealthError, resolveTargetConfigs, type Driver } from "@alfred/db-health-core";
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
    const configs = resolveTargetConfigs(args.dsns.map((dsn) => ({ ...args.target, dsn })));
    const definitions = await loadDrivers(configs.map((c) => c.dsn), args.plugins);
    drivers = configs.map((config, i) => createDriver(config, { definition: definitions[i]! }));

    if (args.once) {
      const results = await Promise.all(drivers.map((d) => d.probe()));
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

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}
