/**
 * A stop signal (SIGTERM, SIGINT, SIGQUIT) that arrives during start-up — reading files,
 * importing drivers and plugins, loading the web config, resolving the listen address — must end
 * the process then, not when start-up is done: a plugin whose import never finishes would
 * otherwise make healthcheck unstoppable but by SIGKILL.
 *
 * The exit code is the one the mode gives a stop signal at any other time, so that it never
 * depends on when the signal happened to arrive:
 * - daemon: 0, as for a stop while serving (nothing was started, so nothing is left behind);
 * - wrapper: 128 + the signal's number, as when a stop comes before the program is started, which
 *   is what a shell reports for a program the signal killed (143 for SIGTERM);
 * - `--once`, `config check`, `status`: 1, as for a `--once` interrupted while probing: no answer
 *   was given, which must read neither as healthy (0) nor as a bad configuration (3).
 */
import { constants } from "node:os";
import type { CliMode } from "./cli-plan.js";
import { EXIT } from "./report.js";

/**
 * Thrown by {@link untilStopped} when the stop signal aborts before the work is done.
 *
 * @example
 * ```ts
 * try { await untilStopped(work, shutdown); } catch (err) { if (err instanceof StoppedDuringStartup) return 0; throw err; }
 * ```
 */
export class StoppedDuringStartup extends Error {
  override readonly name = "StoppedDuringStartup";
  constructor(
    /** The signal's abort reason (cli.ts sets `{ signal: "SIGTERM" }` on it). */
    readonly reason: unknown,
  ) {
    super(`stopped by ${signalName(reason)} during start-up, before anything was probed or started`);
  }
}

/**
 * `work`, or a {@link StoppedDuringStartup} rejection as soon as `shutdown` aborts (at once if
 * it already has). The work itself is abandoned, not cancelled: the process is about to exit.
 *
 * @example
 * ```ts
 * const plan = await untilStopped(resolveCli(argv, env, version), io.shutdown);
 * ```
 */
export function untilStopped<T>(work: Promise<T>, shutdown: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = (): void => reject(new StoppedDuringStartup(shutdown.reason));
    if (shutdown.aborted) stop();
    shutdown.addEventListener("abort", stop, { once: true });
    // Settling twice is harmless: whichever comes first wins, a late rejection is not unhandled.
    work.then(resolve, reject).finally(() => shutdown.removeEventListener("abort", stop));
  });
}

/**
 * The exit code for a stop during start-up in this mode (see the module comment for why).
 *
 * @example
 * ```ts
 * startupStopCode("daemon", true, { signal: "SIGTERM" }); // 143: wrapper mode
 * startupStopCode("once", false, { signal: "SIGINT" });   // 1
 * ```
 */
export function startupStopCode(mode: CliMode, wrapping: boolean, reason: unknown): number {
  if (wrapping) return 128 + signalNumber(reason);
  return mode === "daemon" ? EXIT.ok : EXIT.unhealthy;
}

/**
 * The number of the signal an abort reason carries; SIGTERM's when it names none.
 *
 * @example
 * ```ts
 * signalNumber({ signal: "SIGINT" }); // 2
 * ```
 */
export function signalNumber(reason: unknown): number {
  return (constants.signals as Record<string, number>)[signalName(reason)] ?? constants.signals.SIGTERM;
}

function signalName(reason: unknown): string {
  return (reason as { signal?: string } | undefined)?.signal ?? "SIGTERM";
}
