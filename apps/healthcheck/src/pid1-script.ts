/**
 * Reading PID 1's command line (`/proc/1/cmdline`) the way Node.js read it: which script it runs
 * and that script's arguments, past Node's own options. `status` uses it to find the flags of the
 * daemon that is PID 1 (quick.ts, config/daemon-flags.ts). Started as `node --no-memory-reducer
 * /app/dist/cli.cjs --export-prom :9191` (docs/operations.md), the script is not argv[1].
 */
import { readFileSync, realpathSync } from "node:fs";
import { isAbsolute, join } from "node:path";

// Node's options whose value may come as the next argument (`-r ./preload.cjs`): those that
// `node --help` (Node.js 20) writes `--name=...`. Every other option is one argument (`--flag` or
// `--flag=value`). An option not listed here that took a separate value would have its value
// read as the script: that is not this CLI's script, and status keeps its defaults, as before.
const WITH_VALUE: ReadonlySet<string> = new Set([
  "-r", "--require", "--import", "--loader", "--experimental-loader", "-C", "--conditions",
  "--env-file", "--env-file-if-exists", "--inspect-port", "--debug-port", "--title",
  "--input-type", "--redirect-warnings", "--diagnostic-dir", "--report-dir", "--report-directory",
  "--report-filename", "--report-signal", "--cpu-prof-dir", "--cpu-prof-interval",
  "--cpu-prof-name", "--heap-prof-dir", "--heap-prof-interval", "--heap-prof-name",
  "--heapsnapshot-near-heap-limit", "--heapsnapshot-signal", "--secure-heap", "--secure-heap-min",
  "--openssl-config", "--icu-data-dir", "--unhandled-rejections", "--dns-result-order",
  "--watch-path", "--allow-fs-read", "--allow-fs-write", "--build-snapshot-config",
  "--disable-proto", "--disable-warning", "--experimental-default-type", "--experimental-policy",
  "--policy-integrity", "--experimental-sea-config", "--inspect-publish-uid",
  "--max-http-header-size", "--network-family-autoselection-attempt-timeout", "--snapshot-blob",
  "--tls-cipher-list", "--tls-keylog", "--trace-event-categories", "--trace-event-file-pattern",
  "--trace-require-module", "--use-largepages", "--v8-pool-size", "--test-concurrency",
  "--test-name-pattern", "--test-reporter", "--test-reporter-destination", "--test-shard",
  "--test-timeout", "--security-revert", "--security-reverts",
]);
// With one of these Node runs no script file.
const NO_SCRIPT: ReadonlySet<string> = new Set(["-e", "--eval", "-p", "--print", "-", "-c", "--check", "-v", "--version", "-h", "--help", "--test", "--run"]);

/**
 * The arguments PID 1 gave this CLI when PID 1 runs it (its script resolves to `self`), or
 * `undefined`: another program, Node without a script, unreadable (not Linux).
 *
 * @example
 * ```ts
 * // PID 1: node --no-memory-reducer /app/dist/cli.cjs --export-prom :9191
 * pid1Args("/proc/1/cmdline", process.argv[1]); // ["--export-prom", ":9191"]
 * ```
 */
export function pid1Args(cmdline: string, self: string | undefined): string[] | undefined {
  try {
    if (!self) return undefined;
    const argv = readFileSync(cmdline, "utf8").split("\0").slice(0, -1);
    let i = 1;
    for (; i < argv.length; i++) {
      const arg = argv[i]!;
      if (arg === "--") {
        i++;
        break;
      }
      if (NO_SCRIPT.has(arg.split("=")[0]!)) return undefined;
      if (!arg.startsWith("-")) break;
      if (WITH_VALUE.has(arg)) i++;
    }
    const script = argv[i];
    if (!script) return undefined;
    const path = isAbsolute(script) ? script : join(cmdline, "../cwd", script);
    return realpathSync(path) === realpathSync(self) ? argv.slice(i + 1) : undefined;
  } catch {
    return undefined;
  }
}
