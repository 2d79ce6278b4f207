import { errorMessage, isDbHealthError, type Driver } from "@alfred/db-health-core";
import { HelpShown } from "./args.js";
import { buildInfo } from "./build-info.js";
import { rememberSecrets, setCrashReporter } from "./crash.js";
import type { CliPlan } from "./cli-plan.js";
import { resolveCli } from "./config/resolve.js";
import { FdWriter } from "./fd-writer.js";
import { EXIT } from "./report.js";
import { askStatus } from "./status.js";
import { signalNumber, startupStopCode, StoppedDuringStartup, untilStopped } from "./startup-stop.js";

/** Where the CLI writes; tests pass their own. */
export interface Io {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  env: NodeJS.ProcessEnv;
  /**
   * Aborts on SIGTERM/SIGINT/SIGQUIT. During start-up it ends the run at once (startup-stop.ts);
   * then it stops the daemon, or in wrapper mode only keeps a child from being started (once it
   * runs, the child gets the signals).
   */
  shutdown: AbortSignal;
  /**
   * Called once as soon as the command line says daemon, before its targets are read (a
   * thousand targets' configuration allocates enough to grow the young generation to its
   * maximum); the `healthcheck` command caps the growth of V8's heap here (run-cli.ts,
   * `capHeapGrowth`). Tests that run `main` in their own process leave it out.
   */
  beforeDaemon?: () => void;
}

const { version: VERSION, revision: REVISION } = buildInfo();
/**
 * How long a daemon may take to close after SIGTERM/SIGINT before it exits anyway: under the
 * 10 s Docker and Compose give a container before SIGKILL, so the exit is ours and logged.
 */
const SHUTDOWN_GRACE_MS = 8_000;

/**
 * Runs the CLI and returns its exit code: 0 healthy, 1 down/degraded (`--once`) or not ready
 * (`status`), 3 invalid configuration, and in wrapper mode the child's code (128 + signal when it
 * was killed). A stop signal during start-up returns at once with the mode's code for a stop
 * (startup-stop.ts). Never throws and never prints a stack trace or a password.
 *
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, shutdown });
 * ```
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let drivers: Driver[] = [];
  let plan: CliPlan | undefined;
  // Until the command line is parsed, a stop is answered as a one-shot command answers it.
  let stopCode = (reason: unknown): number => startupStopCode("once", false, reason);
  const startup = <T>(work: Promise<T>): Promise<T> => untilStopped(work, io.shutdown);
  try {
    plan = await startup(
      resolveCli(argv, io.env, VERSION, {
        writeOut: (text) => void io.stdout.write(text),
        onMode: (mode, wrapping) => {
          stopCode = (reason) => startupStopCode(mode, wrapping, reason);
          if (mode === "daemon") io.beforeDaemon?.();
        },
      }),
    );
    if (plan.mode === "status") return await startup(askStatus(plan.argument, io));
    rememberSecrets([], io.env, [...plan.targets.flatMap((t) => t.secrets), ...plan.modules.flatMap((m) => (m.password ? [m.password] : []))]);
    // The daemon logs them as JSON once its logger exists; the one-shot modes print them.
    if (plan.mode !== "daemon") for (const w of plan.warnings) io.stderr.write(`healthcheck: warning: ${w}\n`);
    // Every mode runs from the plan as resolved: nothing is validated, parsed or looked up again.
    if (plan.mode === "config-check") {
      const modules = plan.modules.length > 0 ? `; ${plan.modules.length} module(s) for discovered targets: ${someOf(plan.modules.map((m) => m.name))}` : "";
      const targets = plan.targets.length > 0 ? `${plan.targets.length} target(s): ${someOf(plan.targets.map((t) => t.config.name))}` : "no configured targets";
      io.stdout.write(`configuration is valid: ${targets}${modules}\n`);
      return EXIT.ok;
    }
    // The probe (and, for the daemon, everything else) is loaded now: `status`, `--help`,
    // `--version` and `config check` never load it.
    const { createDriver, runOnce } = await startup(import("./once.js"));
    drivers = plan.targets.map((target) => createDriver(target));
    if (plan.mode === "once") return await runOnce(plan, drivers, io);
    return await daemon(plan, drivers, io, startup);
  } catch (err) {
    if (err instanceof HelpShown) return EXIT.ok;
    if (err instanceof StoppedDuringStartup) {
      io.stderr.write(`healthcheck: ${err.message}\n`);
      return stopCode(err.reason);
    }
    if (isDbHealthError(err) && err.kind === "config") {
      // A stop signal that came while the configuration was read (a long synchronous parse)
      // is handled first: the exit code of a stop must not depend on what start-up found.
      if (!plan) await new Promise((resolve) => setImmediate(resolve));
      if (!plan && io.shutdown.aborted) {
        io.stderr.write(`healthcheck: ${new StoppedDuringStartup(io.shutdown.reason).message}\n`);
        return stopCode(io.shutdown.reason);
      }
      io.stderr.write(`healthcheck: invalid configuration:\n${indent(err.message)}\n`);
      return EXIT.config;
    }
    // Only the daemon listens: only its errors can be about the listen address.
    const listening = plan?.mode === "daemon" && (await import("./listen-host.js")).listenFailure(err, plan.listen, plan.listenFrom ?? "--export-prom");
    if (listening) {
      io.stderr.write(`healthcheck: ${listening}\n`);
      return EXIT.config;
    }
    io.stderr.write(`healthcheck: ${errorMessage(err)}\n`);
    return EXIT.unhealthy;
  } finally {
    await Promise.allSettled(drivers.map((d) => d.close()));
  }
}

async function daemon(plan: CliPlan, drivers: Driver[], io: Io, startup: <T>(work: Promise<T>) => Promise<T>): Promise<number> {
  // Loaded here, not at start-up: `--once` needs neither pino nor prom-client nor the HTTP code.
  const [{ runDaemon }, { loadWebConfig }, { startChild }, { createLogger }, { lookupListenHost }, { tcpEndpoints }] = await startup(
    Promise.all([import("./daemon.js"), import("./http/http-server.js"), import("./wrapper.js"), import("./logger.js"), import("./listen-host.js"), import("./child-readiness.js")]),
  );
  const log = createLogger(io.stderr instanceof FdWriter || io.stderr === process.stderr ? 2 : io.stderr, plan.logLevel);
  setCrashReporter((event, message) => log.log(event === "uncaught exception" ? "error" : "warn", event, event === "warning" ? { warning: message } : { error: message }));
  for (const w of plan.warnings) log.log("warn", "configuration warning", { warning: w });
  const webConfig = plan.webConfigFile ? await startup(loadWebConfig(plan.webConfigFile)) : undefined;
  // A name that does not resolve is reported before anything binds or starts (exit 3).
  await startup(lookupListenHost(plan.listen));
  const wrapping = plan.command.length > 0;
  // Bounded shutdown: connections get SHUTDOWN_GRACE_MS to close, then the process goes.
  let grace: NodeJS.Timeout | undefined;
  if (!wrapping) {
    const giveUp = (): void => {
      log.log("error", `shutdown did not finish within ${SHUTDOWN_GRACE_MS / 1000} s; exiting`, {});
      process.exit(EXIT.unhealthy);
    };
    const arm = (): void => void (grace = setTimeout(giveUp, SHUTDOWN_GRACE_MS).unref());
    // Start-up is over (a stop during it has returned already); an abort now is a shutdown.
    if (io.shutdown.aborted) arm();
    else io.shutdown.addEventListener("abort", arm, { once: true });
  }
  const childCode = await runDaemon({
    drivers,
    modules: plan.modules,
    listen: plan.listen,
    legacyMetrics: plan.legacyMetrics,
    runtimeMetrics: plan.runtimeMetrics,
    ...(plan.durationBuckets ? { durationBuckets: plan.durationBuckets } : {}),
    version: VERSION,
    revision: REVISION,
    log,
    probeCacheMs: plan.probeCacheMs,
    telemetryPath: plan.telemetryPath,
    timeoutOffsetMs: plan.timeoutOffsetMs,
    ...(webConfig ? { webConfig } : {}),
    // A stop signal before the child exists means it is never started.
    ...(wrapping ? { startChild: () => (io.shutdown.aborted ? undefined : startChild(plan.command, log)), childTcp: tcpEndpoints(plan.targets.map((t) => t.dsn)) } : {}),
    // In wrapper mode the signals belong to the child; the daemon ends when the child does.
    signal: wrapping ? new AbortController().signal : io.shutdown,
  });
  // Shut down cleanly ("stopped" is logged): the grace period's exit 1 no longer applies. (The
  // CLI entry point exits soon after with this code, even if a client library still holds a socket.)
  clearTimeout(grace);
  if (wrapping && childCode === undefined) return 128 + signalNumber(io.shutdown.reason);
  return childCode ?? EXIT.ok;
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}

/** Names shown in one line: the first 20, then how many more (10,000 targets made an 80 KB line). */
function someOf(names: readonly string[], shown = 20): string {
  return names.length <= shown ? names.join(", ") : `${names.slice(0, shown).join(", ")} … and ${names.length - shown} more`;
}
