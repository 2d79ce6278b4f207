import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
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

/**
 * Where better-sqlite3 is, resolved from this package as the bundled CLI resolves a driver's
 * client (from the installed driver package's directory), so that the worker loads the very
 * module the probe's connection uses.
 */
function betterSqlite3Path(): string {
  return (clientPath ??= createRequire(createRequire(import.meta.url).resolve("@alfred/db-health-driver-sqlite/package.json")).resolve("better-sqlite3"));
}

/**
 * Runs a SQLite target's custom checks in a worker thread of its own, off the event loop:
 * better-sqlite3 is synchronous and SQLite cannot be interrupted, so a slow check on the main
 * thread would stall every target and every HTTP answer until it returned. The worker is started
 * at the first check and opens its own connection to the same file, read-only (`readonly`,
 * `fileMustExist`, busy timeout 0), so a check cannot write at the connection level either.
 *
 * Past the call's deadline (or when its signal aborts) the check fails as `timeout`. A request the
 * worker had not started yet (it was still loading, say) is simply given up and the worker kept;
 * one that runs is ended by terminating the worker. The native statement then runs on to its end
 * in that dying thread (no JavaScript runs to stop it): it blocks nothing in this thread, but it
 * holds a CPU core, and Node's exit waits for it. The next check starts a new worker, but the
 * same query is not started again while its earlier run goes on in a stopped thread (it fails as
 * `timeout` at once): one runaway statement per check at most, and the target's other checks run.
 * {@link stop} ends the worker with the target's connection; the next check starts a new one.
 *
 * @example
 * ```ts
 * const checks = new CheckWorker("/var/lib/app.db");
 * await checks.run("SELECT count(*) FROM jobs", call); // 12
 * checks.stop();
 * ```
 */
export class CheckWorker {
  #worker: Worker | undefined;
  /** The request cell shared with the current worker: the id asked for, `-id` once it runs, 0 given up. */
  #cell: Int32Array | undefined;
  #pending: { id: number; settle(answer: CheckAnswer | { failed: unknown }): void } | undefined;
  /** The last request sent to the current worker: the query a stopped worker still runs. */
  #posted: { id: number; sql: string } | undefined;
  /** Workers stopped while their statement ran, with its query, until their thread has exited. */
  readonly #draining = new Map<Worker, string>();
  #nextId = 1;

  constructor(private readonly path: string) {}

  /**
   * Runs `sql` as a check (see `checkStatement` for the guards and refusals) and returns the first
   * column of its first row as better-sqlite3 gives it, under the call's deadline and signal.
   */
  run(sql: string, call: DialectCall): Promise<unknown> {
    if (call.signal.aborted) return Promise.reject(new DbHealthError("timeout", "check aborted before it started", { driver: "sqlite" }));
    if ([...this.#draining.values()].includes(sql)) {
      // Not a timeout of this run (nothing ran, at once): kind `query`, so that core goes on with
      // the target's other checks rather than end them as after a check that used its time.
      return Promise.reject(
        new DbHealthError("query", "check not started: this query still runs from an earlier cycle, in the worker thread stopped at its timeout (SQLite cannot interrupt a statement); it starts again once that run ends", { driver: "sqlite" }),
      );
    }
    if (this.#pending) return Promise.reject(new DbHealthError("contract", "a check already runs on this SQLite target: checks run one at a time", { driver: "sqlite" }));
    const worker = this.#start();
    const cell = this.#cell!;
    const id = this.#nextId++;
    const ms = Math.max(0, call.deadline - performance.now());
    return new Promise<unknown>((resolve, reject) => {
      const settle = (answer: CheckAnswer | { failed: unknown }): void => {
        if (this.#pending?.id !== id) return;
        this.#pending = undefined;
        clearTimeout(timer);
        call.signal.removeEventListener("abort", onAbort);
        worker.unref();
        if ("failed" in answer) return reject(answer.failed);
        if ("value" in answer) return resolve(asMainThreadValue(answer.value));
        const { message, name, code, refusal } = answer.error;
        if (refusal !== undefined) return reject(refusalError(Object.assign(new Error(message), { refusal })));
        reject(Object.assign(new Error(message), { name, ...(code === undefined ? {} : { code }) }));
      };
      const expire = (err: unknown): void => {
        if (this.#pending?.id !== id) return;
        // Given up before the worker started it: the worker stays. Running: it must go.
        const started = Atomics.compareExchange(cell, 0, id, 0) !== id;
        settle({ failed: err });
        if (started) this.stop();
      };
      const onAbort = (): void => {
        const reason: unknown = call.signal.reason;
        expire(reason instanceof DbHealthError ? reason : new DbHealthError("timeout", "check aborted", { driver: "sqlite" }));
      };
      // The call's signal aborts at the deadline (core's own timeout, and its message); this is the
      // backstop for a caller whose signal never does.
      const timer = setTimeout(() => expire(new DbHealthError("timeout", `check did not finish within ${formatDuration(Math.round(ms))}`, { driver: "sqlite" })), ms + BACKSTOP_MS);
      call.signal.addEventListener("abort", onAbort, { once: true });
      this.#pending = { id, settle };
      this.#posted = { id, sql };
      Atomics.store(cell, 0, id);
      worker.ref();
      worker.postMessage({ id, sql, waitMs: call.waitForLocks === false ? 0 : ms * 0.9 } satisfies CheckRequest);
    });
  }

  /**
   * Ends the worker (with the target's connection, or a check past its deadline). A check still
   * waiting fails; a statement that runs goes on in the dying thread, see {@link CheckWorker}.
   * Never throws; safe twice.
   */
  stop(): void {
    const worker = this.#worker;
    const cell = this.#cell;
    if (!worker || !cell) return;
    this.#worker = undefined;
    this.#cell = undefined;
    const running = Atomics.load(cell, 0);
    Atomics.store(cell, 0, 0);
    if (running < 0) {
      this.#draining.set(worker, this.#posted?.id === -running ? this.#posted.sql : "");
      worker.once("exit", () => this.#draining.delete(worker));
    }
    worker.unref();
    void worker.terminate().catch(() => undefined);
    this.#pending?.settle({ failed: new DbHealthError("connect", "check stopped: the connection was closed", { driver: "sqlite" }) });
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const state = new SharedArrayBuffer(4);
    const worker = new Worker(workerSource(), {
      eval: true,
      workerData: { client: betterSqlite3Path(), path: this.path, state } satisfies CheckWorkerData,
      resourceLimits: WORKER_LIMITS,
    });
    worker.unref();
    const lost = (why: string): void => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#cell = undefined;
      this.#pending?.settle({ failed: new DbHealthError("query", `the check worker failed: ${why}`, { driver: "sqlite" }) });
    };
    worker.on("message", (answer: CheckAnswer) => {
      if (this.#worker === worker && this.#pending?.id === answer.id) this.#pending.settle(answer);
    });
    worker.on("error", (err) => lost(err.message));
    worker.on("exit", (code) => lost(`it exited (code ${code})`));
    this.#worker = worker;
    this.#cell = new Int32Array(state);
    return worker;
  }
}

/** A BLOB arrives as a Uint8Array (structured clone); the main-thread path gives a Buffer. */
function asMainThreadValue(value: unknown): unknown {
  return value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;
}
