/**
 * Every external command of the image tests goes through here: bounded in time (SIGKILL at the
 * deadline), output collected, and failures reported with the command line and its output.
 * Secrets never appear on a command line: containers get them with `-e NAME` (no value), which
 * podman copies from the environment passed in `env`.
 */
import { spawn } from "node:child_process";

/** What a finished command left behind. */
export interface RunResult {
  /** exit code, or null when a signal (the deadline's SIGKILL included) ended it */
  code: number | null;
  stdout: string;
  stderr: string;
  /** wall-clock milliseconds */
  ms: number;
  /** true when the deadline killed it */
  timedOut: boolean;
}

/** Options of {@link run}. */
export interface RunOptions {
  /** hard deadline, then SIGKILL @default 60_000 */
  timeoutMs?: number;
  /** environment of the command @default process.env */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Runs a command to completion within a deadline; never rejects (check `code`).
 *
 * @example
 * ```ts
 * const r = await run("podman", ["image", "exists", "localhost/x:1"], { timeoutMs: 20_000 });
 * if (r.code === 0) console.log("present");
 * ```
 */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    const done = (code: number | null): void => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started, timedOut });
    };
    child.on("error", (err) => {
      stderr += String(err);
      done(null);
    });
    child.on("close", (code) => done(code));
  });
}

/**
 * Command-line words with every DSN reduced to its scheme: messages never show a whole DSN.
 *
 * @example
 * ```ts
 * redactArgs(["--once", "--dsn", "postgres://app@db:5432/app"]); // "--once --dsn postgres://…"
 * ```
 */
export function redactArgs(args: readonly string[]): string {
  return args.map((a) => a.replace(/\b([a-z][a-z0-9+.-]*:\/\/|file:)\S+/gi, "$1…")).join(" ");
}

/**
 * The command line (DSNs reduced) and the end of its output, for an error message.
 *
 * @example
 * ```ts
 * expect(r.code, describeRun("podman", args, r)).toBe(0);
 * ```
 */
export function describeRun(cmd: string, args: readonly string[], r: RunResult): string {
  const how = r.timedOut ? "timed out" : `exited ${r.code}`;
  const output = `${r.stdout}\n${r.stderr}`.trim().split("\n").slice(-40).join("\n");
  return `${cmd} ${redactArgs(args)} ${how} after ${(r.ms / 1000).toFixed(1)} s${output ? `:\n${output}` : ""}`;
}

/**
 * {@link run}, but rejects unless the command exits 0; resolves with its stdout.
 *
 * @example
 * ```ts
 * const id = (await runOk("podman", ["create", "localhost/x:1"])).trim();
 * ```
 */
export async function runOk(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, options);
  if (r.code !== 0) throw new Error(describeRun(cmd, args, r));
  return r.stdout;
}
