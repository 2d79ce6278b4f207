import { createRequire } from "node:module";
import { installCrashHandlers } from "./crash.js";
import { FdWriter } from "./fd-writer.js";
import type { Io } from "./main.js";

/**
 * What every way of starting the `healthcheck` command does around its work: crash handlers,
 * stop signals, and the exit. Shared by the full CLI (cli.ts) and the quick path (quick-cli.ts),
 * so that both end alike.
 *
 * @example
 * ```ts
 * runCli((io) => main(process.argv.slice(2), io));
 * ```
 */
export function runCli(run: (io: Io) => Promise<number>): void {
  // First: whatever a driver throws outside a probe is reported in one redacted line, never as a
  // stack trace that could carry a DSN.
  installCrashHandlers();

  // Stop signals end start-up wherever it is (reading files, importing plugins: startup-stop.ts),
  // then the daemon (or, before a wrapped child exists, keep it from starting). A second one
  // changes nothing: shutdown is already under way and bounded. SIGHUP/SIGUSR1/SIGUSR2
  // are listened to from the start so that, before a wrapped child exists to receive them, they
  // cannot kill the wrapper by their default action; wrapper mode forwards them once it does.
  const controller = new AbortController();
  for (const sig of ["SIGTERM", "SIGINT", "SIGQUIT"] as const) {
    process.on(sig, () => {
      if (!controller.signal.aborted) controller.abort(Object.assign(new Error(`received ${sig}`), { signal: sig }));
    });
  }
  for (const sig of ["SIGHUP", "SIGUSR1", "SIGUSR2"] as const) process.on(sig, () => undefined);

  // Written with writeSync: Node's stdout and stderr streams are created only if something
  // else asks for them (see installCrashHandlers).
  const stdout = new FdWriter(1);
  const stderr = new FdWriter(2);
  const io: Io = {
    stdout,
    stderr,
    env: process.env,
    shutdown: controller.signal,
    beforeDaemon: capHeapGrowth,
  };
  void run(io).then((answer) => {
    let code = answer;
    // An answer that could not be written (a full disk, an I/O error; not a reader that closed
    // its end) did not reach anyone: not a success.
    const undelivered = (why: string | undefined): void => {
      if (code !== 0 || why === undefined) return;
      stderr.write(`healthcheck: the output could not be written: ${why}\n`);
      code = 1;
    };
    undelivered(stdout.failure?.message);
    process.exitCode = code;
    // Everything is closed or reported by now. A socket a client library still holds (a closed mssql
    // pool waits for its request in flight) must neither keep the process alive nor change the code.
    // After a stop signal nothing is worth waiting for: an import abandoned during start-up may
    // never finish (stderr is written at once, and so is every log line its reader takes).
    if (controller.signal.aborted) process.exit(code);
    // Output that a slow reader of a non-blocking pipe has not taken yet is waited for, as any
    // command's output is: cutting it would leave a JSON document half-written under a success
    // code. A stop signal or a hang-up ends the wait; an answer left undelivered is no success.
    const giveUp = (): void => {
      undelivered(stdout.pending > 0 ? `${stdout.pending} bytes were not taken by the reader` : stdout.failure?.message);
      process.exit(code);
    };
    controller.signal.addEventListener("abort", giveUp);
    process.on("SIGHUP", giveUp);
    const exitOnceWritten = (): void => {
      if (stdout.pending + stderr.pending > 0) return void setTimeout(exitOnceWritten, 100).unref();
      // What was kept can also fail when it is written.
      undelivered(stdout.failure?.message);
      process.exit(code);
    };
    setTimeout(exitOnceWritten, 1000).unref();
  });
}

/** How far past what survived the last major collection the old generation grows before the next. */
const OLD_GENERATION_GROWTH_PERCENT = 50;

/**
 * Keeps V8's heap close to what the daemon keeps alive. The young generation keeps the size it
 * has when the daemon starts (loading the chunks may have grown it to a few MB; V8 still shrinks
 * it when the daemon idles) instead of doubling up to 16 MB semi-spaces (32 MB of RSS) once many
 * targets' cycles, or a thousand targets' configuration, allocate at once: the grown young
 * generation was most of the RSS per target, and the more frequent, smaller scavenges cost
 * ~0.3–0.5 points of a core with 100 targets at 5 s (docs/performance.md, section 6). The old
 * generation is collected once it has grown 50 % past what survived the last collection, where
 * V8 waits for up to 4×: a daemon with 1,000 targets scraped as Prometheus scrapes held 230–350 MB
 * of RSS, most of it /metrics bodies and cycle results it had finished with, before collecting
 * them; now ~270 MB with persistent connections and ~170 MB with `connection: per-cycle`, CPU
 * within noise. 20 % saved a little more memory, but under 100 rps of gzipped /metrics the
 * collections it forced cost ~3 points of a core and took the p99 from 44 to 61–65 ms (50 %: 47 ms).
 * `--semi-space-growth-factor` and `--heap-growing-percent` are read at every growth and every
 * collection, so setting them at run time works (`--max-semi-space-size` is read only at start).
 * Called as soon as the command line says daemon (main.ts, `Io.beforeDaemon`); one-shot modes
 * never call it: their start-up is where a larger heap pays.
 *
 * @example
 * ```ts
 * capHeapGrowth(); // once the mode is known to be the daemon
 * ```
 */
export function capHeapGrowth(): void {
  // Loaded here, with require: `status`, `--version` and `--help` share this file and never
  // need node:v8, and an import() would start the ES module loader the bundle does without.
  const { setFlagsFromString } = createRequire(import.meta.url)("node:v8") as typeof import("node:v8");
  setFlagsFromString("--semi-space-growth-factor=1");
  setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWTH_PERCENT}`);
}
