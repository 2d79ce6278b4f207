import { performance } from "node:perf_hooks";
import { withDeadline } from "./deadline.js";
import { peerMoved } from "./peer-moved.js";
import { showable } from "../contract/terminal-text.js";
import { DbHealthError, errorMessage, isDbHealthError, redactError } from "../contract/errors.js";
import type { DriverAdapter } from "../contract/driver-adapter.js";
import type { Phase } from "../contract/types.js";

/** How long a cycle waits for its host name's lookup before it goes on with the last answer. */
const PEER_LOOKUP_WAIT_MS = 250;

/** What {@link Session.run} runs: a phase of the cycle, or one of its custom checks. */
export type Step = Phase | "check";

/** A phase's outcome with its value, as {@link Session.run} returns it. */
export type PhaseOutcome<T> =
  | { ok: true; ms: number; value: T }
  | { ok: false; ms: number; error: DbHealthError };

/**
 * One target's connection state around its adapter: runs each phase under its deadline,
 * times it, and replaces the connection when a deadline passes. Internal to core.
 */
export class Session {
  connected = false;
  /** Set once `close()` ran: no phase may reconnect after that. */
  closed = false;
  /** Counts the connections opened, so a report about one is never applied to the next. */
  generation = 0;
  /** `performance.now()` when the connection was made. */
  private connectedAt = 0;

  constructor(
    readonly adapter: DriverAdapter,
    readonly driverName: string,
    private readonly redactText: (text: string) => string,
  ) {}

  /**
   * Redacts this target's secrets and folds the text onto one line, for anything reported. Other
   * control characters are written as `\xHH` (a tab as a space): a server's error may quote data
   * (`invalid input syntax for type integer: "…"` from a custom check), and an escape sequence
   * in it would reach a terminal through `--once` and the logs.
   */
  clean(text: string): string {
    return this.redactText(showable(text.replace(/\s*\n\s*/g, "; ").trim().replace(/\t/g, " ")));
  }

  /** Runs one phase under `timeoutMs`; never throws. */
  async run<T>(
    phase: Step,
    timeoutMs: number,
    fn: (signal: AbortSignal) => Promise<T>,
    outer?: AbortSignal,
    onLate?: (ok: boolean) => void,
  ): Promise<PhaseOutcome<T>> {
    const start = performance.now();
    try {
      if (this.closed) throw new DbHealthError("connect", "driver is closed", { driver: this.driverName });
      const value = await withDeadline(timeoutMs, fn, {
        what: phase,
        driver: this.driverName,
        ...(outer ? { signal: outer } : {}),
        onTimeout: () => this.drop(),
        ...(onLate ? { onLate: (o: { ok: boolean }) => onLate(o.ok) } : {}),
      });
      return { ok: true, ms: performance.now() - start, value };
    } catch (err) {
      return { ok: false, ms: performance.now() - start, error: this.toError(err, phase) };
    }
  }

  /** Connects if not connected; `undefined` when the connection was already there. */
  async ensureConnected(timeoutMs: number, outer?: AbortSignal): Promise<PhaseOutcome<void> | undefined> {
    // A connection the server closed since the last cycle: replace it up front rather than
    // spend this cycle's first attempt discovering it.
    if (this.connected && this.adapter.connected?.() === false) this.drop();
    // A host name that no longer gives the address the connection reached (a DNS failover):
    // connect to what it names now, with the whole connect timeout. The lookup is waited for
    // briefly (a resolver answers in milliseconds; a late one's answer is used a cycle later), so
    // that a hung resolver costs a cycle, or a scrape's budget, next to nothing.
    if (this.connected && this.adapter.peer && (await peerMoved(this.adapter.peer(), Math.min(timeoutMs, PEER_LOOKUP_WAIT_MS), this.connectedAt, outer))) this.drop();
    if (this.connected) return undefined;
    // A connection that completes after its deadline was given up on: close it, or every
    // slow connect would leave one more backend behind.
    const outcome = await this.run("connect", timeoutMs, (signal) => this.adapter.connect(signal), outer, (ok) => {
      if (ok && !this.connected) this.drop();
    });
    if (outcome.ok) {
      this.connected = true;
      this.connectedAt = performance.now();
      this.generation++;
    } else this.drop();
    return outcome;
  }

  /** Forgets the connection at once (after a deadline or a broken connection). */
  drop(): void {
    this.connected = false;
    try {
      if (this.adapter.destroy) this.adapter.destroy();
      else void this.adapter.close().catch(() => undefined);
    } catch {
      // destroy() must not throw; if it does, the connection is gone from our side anyway.
    }
  }

  /** Closes the connection (cleanly, awaited) but lets the next cycle open a new one. */
  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.adapter.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.connected = false;
    await this.adapter.close();
  }

  private toError(err: unknown, phase: Step): DbHealthError {
    if (isDbHealthError(err)) {
      const clean = this.clean(err.message);
      // A driver's own DbHealthError only had the generic rules applied: add this target's.
      const cause = err.cause === undefined ? undefined : redactError(err.cause, this.redactText);
      return new DbHealthError(err.kind, clean, { ...(err.driver ? { driver: err.driver } : {}), ...(cause === undefined ? {} : { cause }) });
    }
    return new DbHealthError(phase === "connect" ? "connect" : "query", this.clean(errorMessage(err)), {
      driver: this.driverName,
      cause: redactError(err, this.redactText),
    });
  }
}
