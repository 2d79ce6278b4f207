/**
 * The quick path of the `healthcheck` command: `status [URL]`, `--version` and `--help` as a
 * Docker HEALTHCHECK or a person types them, answered by a small bundle of their own
 * (dist/chunks/quick.cjs, scripts/bundle.mjs) without the configuration resolver, commander or
 * the code cache's checks. A command line is taken here only when the full CLI would do exactly
 * the same with it, same output and exit code; everything else (a flag, a `DB_HEALTH_*` variable,
 * a URL that is not one, a PID 1 started with flags) goes the full way, which reports it.
 */
import { errorMessage } from "@alfred/db-health-core";
import { buildInfo } from "./build-info.js";
import type { Io } from "./main.js";
import { pid1Args } from "./pid1-script.js";
import { EXIT } from "./report.js";
import { askStatus } from "./status.js";
import { startupStopCode, StoppedDuringStartup, untilStopped } from "./startup-stop.js";

/** Where `status` asks when neither a URL, a flag, a variable nor PID 1 says otherwise (`:9091`). */
export const DEFAULT_STATUS_URL = "http://127.0.0.1:9091/readyz";

// `--help` as commander prints it, made at build time from buildProgram() (scripts/bundle.mjs).
declare const __HELP_TEXT__: string | undefined;

/** Where the quick path looks: tests pass their own. */
export interface QuickContext {
  /** PID 1's command line (`/proc/1/cmdline`). */
  pid1Cmdline?: string;
  /** The script this process runs (`process.argv[1]`). */
  self?: string | undefined;
  /** `--help`'s text; the bundle's is built in. */
  helpText?: string | undefined;
}

/**
 * The work for a command line the quick path answers exactly as the full CLI does, or
 * `undefined` for every other one.
 *
 * @example
 * ```ts
 * const run = quickRun(["status", "http://127.0.0.1:9091/readyz"], process.env);
 * if (run) process.exitCode = await run(io);
 * ```
 */
export function quickRun(argv: readonly string[], env: NodeJS.ProcessEnv, context: QuickContext = {}): ((io: Io) => Promise<number>) | undefined {
  const [first, second, ...rest] = argv;
  if (argv.length === 1 && (first === "--version" || first === "-V")) return version;
  const help = "helpText" in context ? context.helpText : typeof __HELP_TEXT__ !== "undefined" ? __HELP_TEXT__ : undefined;
  if (argv.length === 1 && (first === "--help" || first === "-h") && help !== undefined) return (io) => (io.stdout.write(help), Promise.resolve(EXIT.ok));
  if (first !== "status" || rest.length > 0 || (second !== undefined && !isHttpUrl(second))) return undefined;
  // Every variable the CLI reads is DB_HEALTH_*; any of them, even one status ignores, is read
  // and checked (a wrong value is exit 3) by the full path.
  if (Object.keys(env).some((name) => name.startsWith("DB_HEALTH_") && env[name])) return undefined;
  if (second === undefined && !pid1LeavesDefaults(context.pid1Cmdline ?? "/proc/1/cmdline", "self" in context ? context.self : process.argv[1])) return undefined;
  const url = second ?? DEFAULT_STATUS_URL;
  return (io) => status(url, io);
}

const version = (io: Io): Promise<number> => (io.stdout.write(`${buildInfo().version}\n`), Promise.resolve(EXIT.ok));

/** What main.ts does with `status`: ask, and answer a stop signal as start-up does. */
async function status(url: string, io: Io): Promise<number> {
  try {
    return await untilStopped(askStatus(url, io), io.shutdown);
  } catch (err) {
    if (err instanceof StoppedDuringStartup) {
      io.stderr.write(`healthcheck: ${err.message}\n`);
      return startupStopCode("status", false, err.reason);
    }
    io.stderr.write(`healthcheck: ${errorMessage(err)}\n`);
    return EXIT.unhealthy;
  }
}

/** What the full path accepts as `status URL` (config/resolve.ts); anything else it reports. */
function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}

/**
 * Plain `status` asks where PID 1's daemon listens when PID 1 is this CLI (config/daemon-flags.ts).
 * True when PID 1 cannot change that: another program, unreadable, or this CLI with no flags
 * (a program to wrap after `--` changes nothing). Flags are left to the full path to read.
 */
function pid1LeavesDefaults(cmdline: string, self: string | undefined): boolean {
  const args = pid1Args(cmdline, self);
  if (!args) return true;
  const dashdash = args.indexOf("--");
  return (dashdash === -1 ? args : args.slice(0, dashdash)).length === 0;
}
