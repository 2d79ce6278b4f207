import { spawn, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { basename } from "node:path";
import { constants } from "node:os";
import { onFatal } from "./crash.js";
import type { Logger } from "./logger.js";

/** Signals the wrapper passes on to its child instead of acting on them itself. */
export const FORWARDED_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;

/** What the wrapper knows about its child, for metrics and readiness. */
export interface ChildState {
  /** `basename(argv[0])`, a bounded label. */
  command: string;
  pid: number | undefined;
  running: boolean;
  /** Unix seconds of the start. */
  startedAt: number;
  /** Exit code as a shell reports it (128 + signal number when killed), once exited. */
  exitCode?: number;
}

/** A running child process under the wrapper. */
export interface WrappedChild {
  state(): ChildState;
  /** Resolves with the shell-style exit code when the child ends. */
  exited: Promise<number>;
  /**
   * Aborts when a stop signal (SIGTERM, SIGINT, SIGQUIT) was forwarded to the child: the
   * database is shutting down, so the probe must let go of its connections (a PostgreSQL
   * smart shutdown waits for every client) while still reporting until the child exits.
   */
  stopping: AbortSignal;
}

const STOP_SIGNALS = new Set<string>(["SIGTERM", "SIGINT", "SIGQUIT"]);

/**
 * Spawns `command` with inherited stdio, as the wrapped main process of a container
 * (`healthcheck --export-prom :9091 -- docker-entrypoint.sh postgres`). Every signal in
 * {@link FORWARDED_SIGNALS} is passed to the child, so `docker stop` reaches the database; the
 * wrapper ends when the child does, with its exit code (128 + signal when it was killed).
 *
 * @example
 * ```ts
 * const child = startChild(["postgres", "-D", "/var/lib/postgresql/data"], log);
 * process.exitCode = await child.exited;
 * ```
 */
export function startChild(command: readonly string[], log: Logger): WrappedChild {
  const [file, ...args] = command;
  if (!file) throw new Error("startChild: empty command");
  const state: ChildState = { command: basename(file), pid: undefined, running: false, startedAt: Date.now() / 1000 };
  const child: ChildProcess = spawn(file, args, { stdio: "inherit" });
  state.pid = child.pid;
  state.running = child.pid !== undefined;
  const stopping = new AbortController();
  const forward = (signal: NodeJS.Signals): void => {
    log.log("info", `forwarding ${signal} to the child`, { pid: child.pid, command: state.command });
    if (STOP_SIGNALS.has(signal)) stopping.abort(new Error(`${signal} forwarded to the child`));
    if (state.running) child.kill(signal);
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  const exited = new Promise<number>((resolve) => {
    const done = (code: number): void => {
      state.running = false;
      stopping.abort(new Error("the child exited"));
      state.exitCode = code;
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      resolve(code);
    };
    child.once("error", (err) => {
      log.log("error", `cannot start the child: ${err.message}`, { command: state.command });
      // 127 is what a shell answers for a command that cannot be found or run.
      done(127);
    });
    child.once("exit", (code, signal) => {
      const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
      log.log(exitCode === 0 ? "info" : "warn", "child exited", { command: state.command, code, signal, exitCode });
      done(exitCode);
    });
  });
  // If the wrapper itself has to die (an uncaught exception), the database goes down cleanly first.
  // The signal goes first: the log line must not be what keeps it from going (the fatal error
  // may be the log's own, a full disk).
  onFatal(async () => {
    if (!state.running) return;
    child.kill("SIGTERM");
    try {
      log.log("warn", "stopping the child before exiting", { pid: child.pid, command: state.command });
    } catch {
      // the child is being stopped either way
    }
    await exited;
  });
  // No pid: the program could not be started ("cannot start the child" follows).
  if (child.pid !== undefined) log.log("info", "child started", { command: state.command, pid: child.pid });
  return { state: () => ({ ...state }), exited, stopping: stopping.signal };
}

/**
 * Whether something accepts TCP connections at host:port within `timeoutMs`. The official
 * database images run a temporary init server on the unix socket only; counting readiness over
 * TCP keeps that server from passing for the real one.
 *
 * @example
 * ```ts
 * if (await acceptsTcp("127.0.0.1", 5432)) markReady();
 * ```
 */
export function acceptsTcp(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
