import { getEventListeners } from "node:events";
import { performance } from "node:perf_hooks";
import { formatDuration } from "../config/duration-syntax.js";
import { DbHealthError } from "../contract/errors.js";
import { onAbort } from "./on-abort.js";

/** Options for {@link withDeadline}. */
export interface DeadlineOptions {
  /** Name of the step, used in the timeout message (`ping timed out after 2s`). */
  what: string;
  /** Called once when the deadline passes, before the returned promise rejects. Must not throw. */
  onTimeout?: () => void;
  /** An outer signal (shutdown); aborting it ends the step at once as well. */
  signal?: AbortSignal;
  /** Driver name for the error. */
  driver?: string;
  /**
   * Called when the work settles after the deadline already passed, e.g. a connection that
   * was established too late and must now be closed. Must not throw.
   */
  onLate?: (outcome: { ok: true; value: unknown } | { ok: false; error: unknown }) => void;
}

/**
 * Runs `fn` under a deadline that ends it on time even if `fn` ignores its `AbortSignal`:
 * the signal is aborted, `onTimeout` runs (destroy the connection there), and the promise
 * rejects with a `timeout` error at the deadline — not whenever the client library gives up.
 *
 * Work that blocks the event loop (a synchronous client such as better-sqlite3) cannot be
 * interrupted by a timer; if it returns a value after the deadline, that is still a timeout.
 *
 * @example
 * ```ts
 * await withDeadline(2000, (signal) => client.query("SELECT 1", { signal }), {
 *   what: "ping",
 *   onTimeout: () => client.destroy(),
 * });
 * ```
 */
export function withDeadline<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>, options: DeadlineOptions): Promise<T> {
  const outer = options.signal;
  if (outer?.aborted) return Promise.reject(abortedError(options, outer));
  const controller = spareControllers.pop() ?? new AbortController();

  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let forgetOuter: (() => void) | undefined;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      if (timer !== undefined) {
        clearTimeout(timer);
        forgetOuter?.();
      }
      return true;
    };
    const expire = (err: DbHealthError): void => {
      if (!finish()) return;
      controller.abort(err);
      try {
        options.onTimeout?.();
      } catch {
        // A failing cleanup must not turn a timeout into something else.
      }
      reject(err);
    };
    const timedOut = (): DbHealthError => new DbHealthError("timeout", `${options.what} timed out after ${formatDuration(ms)}`, { driver: options.driver });
    const start = performance.now();
    const late = (outcome: { ok: true; value: unknown } | { ok: false; error: unknown }): void => {
      try {
        options.onLate?.(outcome);
      } catch {
        // Cleanup of late work must not surface anywhere.
      }
    };
    const onOuterAbort = (): void => expire(abortedError(options, outer!));
    // The timer and the outer listener are armed on the next tick, with the time left. Neither
    // can fire before then (timers and abort events from elsewhere run after the current
    // microtasks), so this is the same deadline; but work that settles in the meantime, a
    // synchronous client such as better-sqlite3, never pays for a timer and a listener.
    const arm = (): void => {
      if (settled) return;
      if (outer?.aborted) return onOuterAbort();
      timer = setTimeout(() => expire(timedOut()), Math.max(1, ms - (performance.now() - start)));
      if (outer) forgetOuter = onAbort(outer, onOuterAbort);
    };
    process.nextTick(arm);

    let pending: Promise<T>;
    try {
      pending = Promise.resolve(fn(controller.signal));
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (value) => {
        if (settled) return late({ ok: true, value });
        if (performance.now() - start > ms) {
          expire(timedOut());
          return late({ ok: true, value });
        }
        // Shut down while the work ran synchronously, before the listener was armed.
        if (timer === undefined && outer?.aborted) {
          onOuterAbort();
          return late({ ok: true, value });
        }
        finish();
        recycle(controller);
        resolve(value);
      },
      (err: unknown) => {
        // After the deadline a late rejection is expected (the connection was destroyed).
        if (settled) return late({ ok: false, error: err });
        finish();
        recycle(controller);
        reject(err);
      },
    );
  });
}

// Creating an AbortSignal is most of what a deadline costs (about 4 µs on Node 20, more than a
// SQLite statement). A controller whose step settled in time was never aborted; once the step
// left no listener on it, nothing can tell it from a new one, so the next step may reuse it.
// An aborted controller, or one still listened to, is never reused.
const spareControllers: AbortController[] = [];
const MAX_SPARE_CONTROLLERS = 64;

function recycle(controller: AbortController): void {
  if (controller.signal.aborted || spareControllers.length >= MAX_SPARE_CONTROLLERS) return;
  if (getEventListeners(controller.signal, "abort").length > 0) return;
  spareControllers.push(controller);
}

function abortedError(options: DeadlineOptions, signal: AbortSignal): DbHealthError {
  const reason = signal.reason instanceof Error ? signal.reason.message : "aborted";
  return new DbHealthError("timeout", `${options.what} aborted: ${reason}`, { driver: options.driver });
}

/**
 * Waits `ms`, or less if `signal` aborts (then resolves early, never rejects).
 *
 * @example
 * ```ts
 * await sleep(1000, shutdown.signal);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      forget?.();
      resolve();
    };
    const timer = setTimeout(done, ms);
    const forget = signal ? onAbort(signal, done) : undefined;
  });
}
