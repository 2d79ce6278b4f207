import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import type { Worker } from "node:worker_threads";
import type Database from "better-sqlite3";
import { DbHealthError, formatDuration, type DialectCall } from "@alfred/db-health-core";
import { checkStatement, refusalError } from "./sqlite-check.js";

type Db = InstanceType<typeof Database>;

/** A request to the worker, and its answer. */
interface CheckRequest {
  id: number;
  sql: string;
  /** How long a locked file is tried again, in milliseconds (0: once). */
  waitMs: number;
}
type CheckAnswer = { id: number; value: unknown } | { id: number; error: { message: string; name?: string; code?: unknown; refusal?: unknown } };

/** What the worker gets: where better-sqlite3 is, the file, and the request cell (see {@link CheckWorker}). */
interface CheckWorkerData {
  client: string;
  path: string;
  state: SharedArrayBuffer;
}

/**
 * The worker thread's code. Self-contained like {@link checkStatement}: it is sent as text, and
 * gets `require` and `checkStatement` as arguments (a bundler rewrites a bare `require` call).
 * It opens its own connection, read-only, on the first request, and answers each request in
 * turn: unless the main thread gave it up before it started (the request cell no longer holds
 * its id), it marks it running (`-id`) and runs it, trying a locked file again with a short
 * backoff (as `patiently` does) until `waitMs` has passed.
 */
function serve(check: (db: Db, sql: string) => unknown, load: NodeJS.Require): void {
  const { parentPort, workerData } = load("node:worker_threads") as typeof import("node:worker_threads");
  const { client, path, state } = workerData as CheckWorkerData;
  const cell = new Int32Array(state);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  let db: Db | undefined;
  const busy = (err: unknown): boolean => /^SQLITE_(BUSY|LOCKED)/.test(String((err as { code?: unknown } | undefined)?.code ?? ""));
  parentPort!.on("message", ({ id, sql, waitMs }: CheckRequest) => {
    if (Atomics.compareExchange(cell, 0, id, -id) !== id) return;
    const until = Date.now() + waitMs;
    let answer: CheckAnswer;
    for (let pause = 1; ; pause = Math.min(pause * 2, 25)) {
      try {
        if (!db) {
          const Client = load(client) as typeof Database;
          // Read-only at the connection: no statement on it can write, whatever the guards say.
          db = new Client(path, { readonly: true, fileMustExist: true, timeout: 0 });
          db.pragma("query_only = ON");
        }
        answer = { id, value: check(db, sql) };
        break;
      } catch (err) {
        if (!busy(err) || Date.now() + pause >= until) {
          const e = err as { message?: unknown; name?: unknown; code?: unknown; refusal?: unknown };
          answer = { id, error: { message: String(e?.message ?? err), name: String(e?.name ?? "Error"), code: e?.code, refusal: e?.refusal } };
          break;
        }
      }
      Atomics.wait(nap, 0, 0, pause);
    }
    parentPort!.postMessage(answer);
  });
}

/** How long after the call's deadline the worker's own timer ends a check whose signal did not abort. */
const BACKSTOP_MS = 50;

/** A check's worker holds one connection and one row: small heaps keep its cost near Node's floor per thread. */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 32 };

let source: string | undefined;
let clientPath: string | undefined;

/** The worker's code, as text (`eval: true`): no file to find next to a bundled chunk. */
function workerSource(): string {
  return (source ??= `"use strict";\nconst checkStatement = ${checkStatement.toString()};\n(${serve.toString()})(checkStatement, require);\n`);
}

/** A request to the check process, and what it answers (a worker's answer, passed on). */
type HostRequest =
  | { op: "run"; id: number; key: number; path: string; client: string; sql: string; waitMs: number }
  | { op: "give-up"; id: number; key: number }
  | { op: "close"; key: number };
/** The check process's answer to a give-up: whether the worker had started the check. */
interface GivenUp {
  op: "given-up";
  id: number;
  started: boolean;
}

/**
 * The check process's code (`node -e`), self-contained like {@link serve}: one worker thread per
 * target (`key`), started at its first check, each request passed to its worker and the answer
 * back. It never ends a worker for a slow statement (that cannot stop it): the parent ends the
 * whole process instead. When the parent goes (it ended, or dropped the channel), it ends at
 * once with SIGKILL: a normal exit would wait for a worker's statement, maybe forever.
 */
function hostMain(workerCode: string, limits: Record<string, number>, load: NodeJS.Require): void {
  const { Worker: WorkerThread } = load("node:worker_threads") as typeof import("node:worker_threads");
  const send = (message: unknown): void => void process.send!(message);
  const workers = new Map<number, { worker: Worker; cell: Int32Array; running: number }>();
  const workerFor = (key: number, path: string, client: string): { worker: Worker; cell: Int32Array; running: number } => {
    const known = workers.get(key);
    if (known) return known;
    const state = new SharedArrayBuffer(4);
    const entry = { worker: new WorkerThread(workerCode, { eval: true, workerData: { client, path, state }, resourceLimits: limits }), cell: new Int32Array(state), running: 0 };
    const lost = (why: string): void => {
      if (workers.get(key) !== entry) return;
      workers.delete(key);
      if (entry.running) send({ id: entry.running, error: { message: `the check worker failed: ${why}`, name: "Error" } });
    };
    entry.worker.on("message", (answer: { id: number }) => {
      if (answer.id === entry.running) entry.running = 0;
      send(answer);
    });
    entry.worker.on("error", (err) => lost(err.message));
    entry.worker.on("exit", (code) => lost(`it exited (code ${code})`));
    workers.set(key, entry);
    return entry;
  };
  process.on("message", (m: HostRequest) => {
    if (m.op === "give-up") {
      // Taken back unless the worker has marked it running (-id): then it may never end.
      const entry = workers.get(m.key);
      const started = entry !== undefined && Atomics.compareExchange(entry.cell, 0, m.id, 0) !== m.id;
      if (entry && !started && entry.running === m.id) entry.running = 0;
      send({ op: "given-up", id: m.id, started });
      return;
    }
    if (m.op === "close") {
      const entry = workers.get(m.key);
      workers.delete(m.key);
      void entry?.worker.terminate();
      return;
    }
    const entry = workerFor(m.key, m.path, m.client);
    entry.running = m.id;
    Atomics.store(entry.cell, 0, m.id);
    entry.worker.postMessage({ id: m.id, sql: m.sql, waitMs: m.waitMs });
  });
  process.on("disconnect", () => process.kill(process.pid, "SIGKILL"));
}

let hostCode: string | undefined;
function hostSource(): string {
  return (hostCode ??= `"use strict";\n(${hostMain.toString()})(${JSON.stringify(workerSource())}, ${JSON.stringify(WORKER_LIMITS)}, require);\n`);
}

/**
 * One check process, shared by every SQLite target of this process. Retired (no new request)
 * when a check in it ran past its deadline; killed once nothing else waits on it, so that the
 * statement that would not stop ends with it.
 */
class CheckHost {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, (answer: CheckAnswer | { failed: unknown }) => void>();
  readonly #givingUp = new Map<number, (started: boolean) => void>();
  #retired = false;
  #ended = false;

  constructor() {
    // Not fork(): no flag of this process (--import, --inspect…) is passed on, and the code is
    // text, so a bundled chunk needs no file next to it. stderr too is dropped: nothing the
    // process could print passes the CLI's redaction.
    this.#child = spawn(process.execPath, ["-e", hostSource()], { stdio: ["ignore", "ignore", "ignore", "ipc"], serialization: "advanced", windowsHide: true });
    this.#child.on("message", (message: CheckAnswer | GivenUp) => {
      if ("op" in message) {
        this.#givingUp.get(message.id)?.(message.started);
        this.#givingUp.delete(message.id);
      } else this.#pending.get(message.id)?.(message);
    });
    this.#child.on("error", (err) => this.#end(`it could not run: ${err.message}`));
    this.#child.on("exit", (code, signal) => this.#end(`it exited (${signal ?? `code ${code}`})`));
    this.#idle();
  }

  /** Whether new checks may go to this process. */
  get usable(): boolean {
    return !this.#retired && !this.#ended;
  }

  /** Sends a check; `settle` gets its answer, or the reason the process ended first. */
  send(request: Extract<HostRequest, { op: "run" }>, settle: (answer: CheckAnswer | { failed: unknown }) => void): void {
    this.#pending.set(request.id, settle);
    this.#child.ref();
    (this.#child.channel as { ref?: () => void } | undefined)?.ref?.();
    try {
      this.#child.send(request);
    } catch (err) {
      // The process went between the last check and this one (its exit is not reported yet).
      this.#retired = true;
      settle({ failed: new DbHealthError("query", `the check process failed: ${err instanceof Error ? err.message : String(err)}`, { driver: "sqlite" }) });
    }
  }

  /** Forgets a request (answered, given up or stopped); ends a retired process with nothing left to wait for. */
  forget(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size > 0) return;
    if (this.#retired) this.#kill();
    else this.#idle();
  }

  /**
   * Takes back a check that was given up (its deadline passed, its target closed) and says
   * whether the worker had started it: then it may run on, and the caller retires this process.
   * A check not started yet (the process or its worker still starting) leaves the process as it is.
   */
  giveUp(id: number, key: number): Promise<boolean> {
    if (this.#ended) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      this.#givingUp.set(id, resolve);
      try {
        this.#child.send({ op: "give-up", id, key } satisfies HostRequest);
      } catch {
        this.#givingUp.delete(id);
        resolve(true);
      }
    });
  }

  close(key: number): void {
    if (this.#ended) return;
    try {
      this.#child.send({ op: "close", key } satisfies HostRequest);
    } catch {
      // the channel is gone: so is the process
    }
  }

  /** No new checks here; the process ends once the checks still in it have settled. */
  retire(): void {
    this.#retired = true;
    if (this.#pending.size === 0) this.#kill();
  }

  #idle(): void {
    this.#child.unref();
    (this.#child.channel as { unref?: () => void } | undefined)?.unref?.();
  }

  #kill(): void {
    this.#ended = true;
    this.#child.kill("SIGKILL");
  }

  #end(why: string): void {
    this.#ended = true;
    for (const resolve of this.#givingUp.values()) resolve(false);
    this.#givingUp.clear();
    for (const settle of [...this.#pending.values()]) settle({ failed: new DbHealthError("query", `the check process failed: ${why}`, { driver: "sqlite" }) });
    this.#pending.clear();
  }
}

let sharedHost: CheckHost | undefined;
/** The check process new checks go to, started when there is none that takes them. */
function checkHost(): CheckHost {
  if (!sharedHost?.usable) sharedHost = new CheckHost();
  return sharedHost;
}
let nextRequestId = 1;
let nextTargetKey = 1;

/**
 * Where better-sqlite3 is, resolved from this package as the bundled CLI resolves a driver's
 * client (from the installed driver package's directory), so that the worker loads the very
 * module the probe's connection uses.
 */
function betterSqlite3Path(): string {
  return (clientPath ??= createRequire(createRequire(import.meta.url).resolve("@alfred/db-health-driver-sqlite/package.json")).resolve("better-sqlite3"));
}

/**
 * Runs a SQLite target's custom checks off the event loop, in a worker thread of their own inside
 * a check process shared by every SQLite target: better-sqlite3 is synchronous and SQLite cannot
 * be interrupted, so a slow check on the main thread would stall every target and every HTTP
 * answer until it returned. The worker opens its own connection to the same file, read-only
 * (`readonly`, `fileMustExist`, busy timeout 0), so a check cannot write at the connection level
 * either.
 *
 * Past the call's deadline (or when its signal aborts) the check fails as `timeout`. A check the
 * worker had not started yet (the process or the worker still starting) is taken back and nothing
 * else changes; one that runs gets its check process retired: new checks go to a new one, and it
 * is killed (SIGKILL) as soon as the other targets' checks still in it have settled, each within
 * its own deadline. A statement that does not stop ends with it: neither a worker thread (whose
 * native statement runs on after `terminate()`) nor Node's exit (which waits for such a thread,
 * maybe forever) can stop it.
 * {@link stop} ends the target's worker with the target's connection; the next check starts a
 * new one.
 *
 * @example
 * ```ts
 * const checks = new CheckWorker("/var/lib/app.db");
 * await checks.run("SELECT count(*) FROM jobs", call); // 12
 * checks.stop();
 * ```
 */
export class CheckWorker {
  #pending: { id: number; host: CheckHost; settle(answer: CheckAnswer | { failed: unknown }): void } | undefined;
  /** The process this target's worker lives in, if it has one. */
  #host: CheckHost | undefined;
  /** This target's worker in the check process (two targets may name one file). */
  readonly #key = nextTargetKey++;

  constructor(private readonly path: string) {}

  /**
   * Runs `sql` as a check (see `checkStatement` for the guards and refusals) and returns the first
   * column of its first row as better-sqlite3 gives it, under the call's deadline and signal.
   */
  run(sql: string, call: DialectCall): Promise<unknown> {
    if (call.signal.aborted) return Promise.reject(new DbHealthError("timeout", "check aborted before it started", { driver: "sqlite" }));
    if (this.#pending) return Promise.reject(new DbHealthError("contract", "a check already runs on this SQLite target: checks run one at a time", { driver: "sqlite" }));
    let client: string;
    try {
      client = betterSqlite3Path();
    } catch (err) {
      return Promise.reject(err);
    }
    const host = checkHost();
    // A worker in a retired process is left behind with it.
    this.#host = host;
    const id = nextRequestId++;
    const ms = Math.max(0, call.deadline - performance.now());
    return new Promise<unknown>((resolve, reject) => {
      const settle = (answer: CheckAnswer | { failed: unknown }): void => {
        if (this.#pending?.id !== id) return;
        this.#pending = undefined;
        clearTimeout(timer);
        call.signal.removeEventListener("abort", onAbort);
        host.forget(id);
        if ("failed" in answer) return reject(answer.failed);
        if ("value" in answer) return resolve(asMainThreadValue(answer.value));
        const { message, name, code, refusal } = answer.error;
        if (refusal !== undefined) return reject(refusalError(Object.assign(new Error(message), { refusal })));
        reject(Object.assign(new Error(message), { name, ...(code === undefined ? {} : { code }) }));
      };
      const expire = (err: unknown): void => {
        if (this.#pending?.id !== id) return;
        settle({ failed: err });
        this.#giveUp(host, id);
      };
      const onAbort = (): void => {
        const reason: unknown = call.signal.reason;
        expire(reason instanceof DbHealthError ? reason : new DbHealthError("timeout", "check aborted", { driver: "sqlite" }));
      };
      // The call's signal aborts at the deadline (core's own timeout, and its message); this is the
      // backstop for a caller whose signal never does.
      const timer = setTimeout(() => expire(new DbHealthError("timeout", `check did not finish within ${formatDuration(Math.round(ms))}`, { driver: "sqlite" })), ms + BACKSTOP_MS);
      call.signal.addEventListener("abort", onAbort, { once: true });
      this.#pending = { id, host, settle };
      host.send({ op: "run", id, key: this.#key, path: this.path, client, sql, waitMs: call.waitForLocks === false ? 0 : ms * 0.9 }, settle);
    });
  }

  /**
   * Ends the target's worker (with the target's connection). A check still running fails, and its
   * process is retired as after a timeout. Never throws; safe twice.
   */
  stop(): void {
    const pending = this.#pending;
    if (pending) {
      pending.settle({ failed: new DbHealthError("connect", "check stopped: the connection was closed", { driver: "sqlite" }) });
      this.#giveUp(pending.host, pending.id);
    }
    this.#host?.close(this.#key);
    this.#host = undefined;
  }

  /** A started statement may never end, and only its process's end stops it: that process is retired. */
  #giveUp(host: CheckHost, id: number): void {
    void host.giveUp(id, this.#key).then((started) => {
      if (started) host.retire();
    });
  }
}

/** A BLOB arrives as a Uint8Array (structured clone); the main-thread path gives a Buffer. */
function asMainThreadValue(value: unknown): unknown {
  return value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;
}
