/** bcrypt comparisons on one worker thread, with a bounded queue and a watchdog. */
import { Worker } from "node:worker_threads";
import type { VerifyAnswer, VerifyJob } from "./bcrypt-compare.js";

// The worker runs compiled JavaScript, found beside this module in dist/. Under vitest this
// module runs from src/ as TypeScript, which a worker thread cannot load: there the built worker
// is used (the package's tests build first, as the CLI tests do).
const BUILT_WORKER = new URL(import.meta.url.endsWith(".ts") ? "../../dist/http/bcrypt-worker.js" : "./bcrypt-worker.js", import.meta.url);

/** Options of {@link createBcryptVerifier}. */
export interface BcryptVerifierOptions {
  /** Comparisons queued or running at once; beyond it `verify` answers `"busy"` at once. */
  maxPending: number;
  /** A comparison still running after this (ms) ends the worker; the next check starts a new one. */
  timeoutMs: number;
  /** The worker script. @default the compiled `bcrypt-worker.js` beside this module */
  workerUrl?: URL;
}

/** What {@link createBcryptVerifier} returns. */
export interface BcryptVerifier {
  /**
   * Whether `password` matches `hash` (an unknown user passes undefined and is compared against
   * a dummy hash of cost `rounds`); `"busy"` without comparing when `maxPending` are waiting.
   * Rejects when the worker crashed or hung during this comparison: never hangs.
   */
  verify(password: string, hash: string | undefined, rounds: number): Promise<boolean | "busy">;
  /** Stops the worker and fails what is queued. */
  close(): Promise<void>;
  /** Comparisons queued or running now. */
  pending(): number;
}

interface Job extends VerifyJob {
  resolve(ok: boolean): void;
  reject(err: Error): void;
  timer?: NodeJS.Timeout;
  timedOut?: boolean;
}

/**
 * Runs bcrypt comparisons on one worker thread, started on the first comparison and unref'd
 * whenever it is idle, so that it never keeps the process alive. One comparison is handed to the worker at a time, so
 * the watchdog times the comparison itself, not its wait in the queue. A worker that exits
 * (crash) or overruns `timeoutMs` (terminated) fails the comparison it was running; the queue
 * goes on with a new worker.
 *
 * @example
 * ```ts
 * const verifier = createBcryptVerifier({ maxPending: 16, timeoutMs: 30_000 });
 * const ok = await verifier.verify("s3cret", "$2b$10$…", 10); // true | false | "busy"
 * ```
 */
export function createBcryptVerifier(options: BcryptVerifierOptions): BcryptVerifier {
  const url = options.workerUrl ?? BUILT_WORKER;
  const queue: Job[] = [];
  let running: Job | undefined;
  let worker: Worker | undefined;
  let nextId = 0;
  let closed = false;

  const finish = (job: Job): void => {
    clearTimeout(job.timer);
    if (running === job) running = undefined;
    worker?.unref();
  };
  const start = (): Worker => {
    // No inherited flags: the parent's --import preloads (a profiler, a tracer) or --input-type
    // have no business in a thread that only runs bcryptjs, and the last one stops it loading.
    const w = new Worker(url, { execArgv: [] });
    w.unref();
    w.on("message", (answer: VerifyAnswer) => {
      const job = running;
      if (!job || answer.id !== job.id) return;
      finish(job);
      if (answer.failed) job.reject(new Error("bcrypt comparison failed (is the hash well formed?)"));
      else job.resolve(answer.ok);
      next();
    });
    // An 'error' event without a listener would crash the process; the 'exit' that follows it
    // fails the comparison in flight.
    w.on("error", () => undefined);
    w.on("exit", (code) => {
      if (worker === w) worker = undefined;
      const job = running;
      if (job) {
        finish(job);
        job.reject(new Error(job.timedOut ? `bcrypt comparison took over ${options.timeoutMs} ms; worker restarted` : `bcrypt worker exited (code ${code}); restarted for the next check`));
      }
      next();
    });
    return w;
  };
  const next = (): void => {
    if (running || closed) return;
    const job = queue.shift();
    if (!job) return;
    running = job;
    const w = (worker ??= start());
    // Held only while it computes an answer someone awaits (at most timeoutMs); idle, it never
    // keeps the process alive.
    w.ref();
    job.timer = setTimeout(() => {
      job.timedOut = true;
      void w.terminate();
    }, options.timeoutMs).unref();
    const message: VerifyJob = { id: job.id, password: job.password, hash: job.hash, rounds: job.rounds };
    w.postMessage(message);
  };

  return {
    verify: (password, hash, rounds) => {
      if (closed) return Promise.reject(new Error("bcrypt verifier closed"));
      if (queue.length + (running ? 1 : 0) >= options.maxPending) return Promise.resolve("busy");
      return new Promise<boolean>((resolve, reject) => {
        queue.push({ id: nextId++, password, hash, rounds, resolve, reject });
        next();
      });
    },
    close: async () => {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new Error("bcrypt verifier closed"));
      await worker?.terminate();
    },
    pending: () => queue.length + (running ? 1 : 0),
  };
}
