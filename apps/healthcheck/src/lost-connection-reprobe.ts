/**
 * When a target's held connection is lost, its next cycle runs at once instead of at its next
 * interval, so a killed server is `db_up 0` within its retries. Repeated losses back off, so a
 * server that keeps dropping connections cannot make the exporter probe it in a loop.
 */
import { performance } from "node:perf_hooks";
import { onAbort } from "@alfred/db-health-core";

/** The back-off of repeated losses of one target's connection. */
export const REPROBE_BACKOFF = {
  /** A loss within this long of the previous one counts as a repeat. */
  windowMs: 60_000,
  /** The first repeat waits this long; each further repeat doubles it, up to the target's interval. */
  firstDelayMs: 1_000,
} as const;

/**
 * One target's early cycles: {@link report} is told of each lost connection, the target's loop
 * asks {@link dueAt} when to run next and sleeps with {@link sleep}, which a report cuts short.
 * A first loss (or one more than a minute after the previous) is probed at once; a repeat after
 * 1 s, then 2 s, 4 s… never later than one interval; a cycle that starts after the loss (the
 * schedule's, or a `/probe`'s) settles it.
 *
 * @example
 * ```ts
 * const reprobe = new LostConnectionReprobe(driver.config.interval);
 * driver.onConnectionLost(() => reprobe.report());
 * const due = Math.min(lastStart + interval, reprobe.dueAt(lastStart)) - performance.now();
 * await reprobe.sleep(due, signal);
 * ```
 */
export class LostConnectionReprobe {
  #repeats = -1;
  #lastLoss = -Infinity;
  #pending: { reportedAt: number; at: number } | undefined;
  #wake: (() => void) | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Records a lost connection and wakes the sleeping loop; returns the delay before the early cycle (ms). */
  report(): number {
    const now = this.now();
    this.#repeats = now - this.#lastLoss > REPROBE_BACKOFF.windowMs ? 0 : Math.min(this.#repeats + 1, 32);
    this.#lastLoss = now;
    const delay = this.#repeats === 0 ? 0 : Math.min(REPROBE_BACKOFF.firstDelayMs * 2 ** (this.#repeats - 1), this.intervalMs);
    this.#pending = { reportedAt: now, at: now + delay };
    this.#wake?.();
    return delay;
  }

  /**
   * When the early cycle is due (`performance.now()` clock), or `Infinity` when none is: no loss
   * reported, or a cycle started at `lastStart` came after it.
   */
  dueAt(lastStart: number): number {
    if (this.#pending && lastStart >= this.#pending.reportedAt) this.#pending = undefined;
    return this.#pending?.at ?? Infinity;
  }

  /** Waits `ms`, or less when a loss is reported or `signal` aborts meanwhile. */
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted || ms <= 0) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        forget();
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      // Every target's loop sleeps on the same shutdown signal: one listener for all of them.
      const forget = onAbort(signal, done);
      this.#wake = done;
    });
  }
}
