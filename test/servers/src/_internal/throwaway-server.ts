/**
 * The one lifecycle of every throwaway server: the server is our own (detached) child process,
 * its stdout and stderr go to the layout's log, readiness is a query that answers, stop and
 * destroy are signals with bounded waits, pause/resume are SIGSTOP/SIGCONT of the process and its
 * children, and the exit hook takes it down if the test run dies. An engine supplies only its
 * command line, its readiness query and which signal means what.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { freePort } from "../ports.js";
import type { DsnOptions } from "../types.js";
import { cleanEnv, errorMessage, processTree, settlesWithin, signal, sleep, type OsUser } from "./exec.js";
import { track, untrack, type KillableSync } from "./exit-hook.js";
import { LOG_MARK, makeLayout, withLog, type Layout } from "./layout.js";

/** Bounds shared by both engines: setup = initdb, install-db, pg_basebackup; query = one harness query. */
export const TIMEOUT_MS = { start: 30_000, stop: 30_000, kill: 5_000, setup: 60_000, query: 60_000 };
const READY_POLL_MS = 50;
const PORT_ATTEMPTS = 3;
/** what the servers log when another process took the port between freePort() and their bind */
const PORT_TAKEN = /could not bind|address already in use|bind on tcp\/ip port/i;

/** What an engine tells the lifecycle about itself. */
export interface EngineTraits<StopMode extends string> {
  /** for messages and temp dir names: "PostgreSQL", "MariaDB" */
  name: string;
  /** the OS user that owns the files and runs the server when we are root */
  owner: string;
  /** dsn(): scheme, default user and database */
  dsn: { scheme: string; user: string; database: string };
  /** the signal behind each stop mode */
  stopSignals: Record<StopMode, NodeJS.Signals>;
  /** the mode stop() uses when given none: an orderly shutdown */
  defaultStop: StopMode;
  /** the crash-like mode destroy() and the exit hook use (it still lets the server take its children down) */
  crashStop: StopMode;
}

/** The server's command line: run as `as` when given (we are root). */
export interface Launch {
  file: string;
  args: string[];
  as?: OsUser;
}

interface Proc {
  child: ChildProcess;
  pid: number;
  /** resolves when the process has exited and been reaped */
  exited: Promise<string>;
  exit?: string;
}

export abstract class ThrowawayServer<StopMode extends string> implements KillableSync {
  readonly dataDir: string;
  readonly caFile?: string;
  readonly certFile?: string;
  #port = 0;
  #proc: Proc | undefined;
  #paused = false;
  #destroyed: Promise<void> | undefined;

  protected constructor(
    protected readonly layout: Layout,
    caFile: string | undefined,
    private readonly engine: EngineTraits<StopMode>,
  ) {
    this.dataDir = layout.dataDir;
    if (caFile !== undefined) {
      this.caFile = caFile;
      this.certFile = join(layout.tlsDir, "server.crt");
    }
    track(this);
  }

  /** the server's command line for the current port */
  protected abstract launch(): Launch;
  /** one readiness attempt: resolves when the server answers a trivial query */
  protected abstract ping(): Promise<void>;

  get port(): number {
    return this.#port;
  }

  /** whether the server process is running (stopped servers keep their files) */
  protected get running(): boolean {
    return this.#proc !== undefined;
  }

  dsn(opts: DsnOptions = {}): string {
    const enc = encodeURIComponent;
    const { scheme, user, database } = this.engine.dsn;
    const auth = enc(opts.user ?? user) + (opts.password !== undefined ? `:${enc(opts.password)}` : "");
    const query = Object.entries(opts.params ?? {})
      .flatMap(([k, v]) => (v === undefined ? [] : [`${enc(k)}=${enc(v)}`]))
      .join("&");
    return `${scheme}://${auth}@127.0.0.1:${this.#port}/${enc(opts.database ?? database)}${query ? `?${query}` : ""}`;
  }

  async start(): Promise<void> {
    if (this.#proc) return;
    if (this.#destroyed) throw new Error(`${this.engine.name} server ${this.dataDir} was destroyed`);
    const proc = this.#spawn();
    try {
      await this.#waitReady(proc);
    } catch (err) {
      // A start that timed out may have left the server running: make sure it is gone.
      await this.#forceStop();
      throw await this.withLog(`could not start ${this.engine.name} on 127.0.0.1:${this.#port}`, err);
    }
  }

  async stop(mode: StopMode = this.engine.defaultStop): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    // A stopped (SIGSTOP) server would never act on the signal.
    this.resume();
    const sig = this.engine.stopSignals[mode];
    signal(proc.pid, sig);
    if (!(await settlesWithin(proc.exited, TIMEOUT_MS.stop))) {
      await this.#forceStop();
      throw await this.withLog(`${this.engine.name} (pid ${proc.pid}) did not stop within ${TIMEOUT_MS.stop} ms of ${sig}; killed it`, undefined);
    }
  }

  pause(): void {
    const proc = this.#proc;
    if (!proc) throw new Error(`pause(): ${this.engine.name} is not running for ${this.dataDir}`);
    // The server first, then its children: a stopped server cannot fork one we would miss.
    signal(proc.pid, "SIGSTOP");
    for (const pid of processTree(proc.pid).slice(1)) signal(pid, "SIGSTOP");
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    if (this.#proc) for (const pid of processTree(this.#proc.pid).reverse()) signal(pid, "SIGCONT");
    this.#paused = false;
  }

  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      const proc = this.#proc;
      if (proc) {
        this.resume();
        signal(proc.pid, this.engine.stopSignals[this.engine.crashStop]);
        if (!(await settlesWithin(proc.exited, TIMEOUT_MS.kill))) await this.#forceStop();
      }
      untrack(this);
      await rm(this.layout.base, { recursive: true, force: true });
    })();
    return this.#destroyed;
  }

  /** First start: pick a free port, retrying when another process grabbed it in between. */
  async startOnFreePort(): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
      this.#port = await freePort();
      try {
        await this.start();
        return;
      } catch (err) {
        lastError = err;
        if (!PORT_TAKEN.test(String(err))) throw err;
      }
    }
    throw lastError;
  }

  /** Exit-hook path: synchronous, best effort. */
  killSync(): void {
    const proc = this.#proc;
    if (proc) {
      for (const pid of processTree(proc.pid)) signal(pid, "SIGCONT");
      signal(proc.pid, this.engine.stopSignals[this.engine.crashStop]);
    }
    try {
      rmSync(this.layout.base, { recursive: true, force: true });
    } catch {
      // the dying server may still be writing; leaving a temp dir is acceptable
    }
  }

  /**
   * A replica's start sequence (see bringUp) in a layout of its own: `create` copies this
   * running primary's data into it. A failure also carries this primary's log.
   */
  protected async replicate<S extends ThrowawayServer<StopMode>>(
    create: (layout: Layout) => Promise<S>,
    after: (replica: S) => Promise<void> = async () => {},
  ): Promise<S> {
    if (!this.running) throw new Error("createReplica(): the primary is not running");
    const layout = await layoutFor(this.engine);
    try {
      return await bringUp<StopMode, S>("replica", layout, () => create(layout), after);
    } catch (err) {
      throw await this.withLog("could not create a replica (primary log below)", err);
    }
  }

  /** `message: cause` followed by this server's log. */
  protected withLog(message: string, cause: unknown): Promise<Error> {
    return withLog(this.layout, message, cause);
  }

  #spawn(): Proc {
    const { file, args, as } = this.launch();
    // stdout/stderr go to the log file: it is where both engines report errors, bad options first.
    const out = openSync(this.layout.logFile, "a");
    let child: ChildProcess;
    try {
      // detached: its own process group, so a terminal's ^C reaches only us and we decide (exit hook).
      child = spawn(file, args, { cwd: this.layout.base, env: cleanEnv(), stdio: ["ignore", out, out], detached: true, ...as });
    } finally {
      closeSync(out);
    }
    child.unref();
    const proc: Proc = {
      child,
      pid: child.pid ?? 0, // 0 when spawn failed: signal() ignores it
      exited: new Promise<string>((resolve) => {
        const done = (how: string): void => {
          proc.exit = how;
          // The server may also die on its own (or be killed by a test): then it is simply stopped.
          if (this.#proc === proc) {
            this.#proc = undefined;
            this.#paused = false;
          }
          resolve(how);
        };
        child.once("exit", (code, sig) => done(sig ? `killed by ${sig}` : `exited with code ${code}`));
        child.once("error", (err) => done(`could not be spawned: ${err.message}`));
      }),
    };
    this.#proc = proc;
    return proc;
  }

  /** polls ping() until it answers, the server exits, or the start timeout passes */
  async #waitReady(proc: Proc): Promise<void> {
    const deadline = Date.now() + TIMEOUT_MS.start;
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (proc.exit !== undefined) throw new Error(`${this.engine.name} ${proc.exit} during startup`);
      try {
        await this.ping();
        return;
      } catch (err) {
        lastError = err;
      }
      await sleep(READY_POLL_MS);
    }
    throw new Error(`not accepting connections after ${TIMEOUT_MS.start} ms (last attempt: ${errorMessage(lastError)})`);
  }

  /** last resort: SIGCONT + SIGKILL the server and its children, then wait (bounded) until it is reaped */
  async #forceStop(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    const pids = processTree(proc.pid);
    for (const pid of pids) signal(pid, "SIGCONT");
    for (const pid of pids) signal(pid, "SIGKILL");
    await settlesWithin(proc.exited, TIMEOUT_MS.kill);
  }
}

/** A fresh temp layout for a server of this engine. */
export const layoutFor = (engine: EngineTraits<string>): Promise<Layout> => makeLayout(`dbh-${engine.name.toLowerCase()}-`, engine.owner);

/**
 * The start sequence of every server and replica: `create` prepares the data directory and
 * returns the server, which starts on a free port, then `after` runs (accounts, replication). On
 * failure everything is removed, and the error carries the server log.
 */
export async function bringUp<M extends string, S extends ThrowawayServer<M>>(
  what: string,
  layout: Layout,
  create: () => Promise<S>,
  after: (server: S) => Promise<void>,
): Promise<S> {
  let server: S | undefined;
  try {
    server = await create();
    await server.startOnFreePort();
    await after(server);
    return server;
  } catch (err) {
    // Read the log before destroy() removes it (start() failures already carry it).
    const error = errorMessage(err).includes(LOG_MARK) ? err : await withLog(layout, `${what} failed`, err);
    if (server) await server.destroy();
    else await rm(layout.base, { recursive: true, force: true });
    throw error;
  }
}
