import type { ConnectionLostEvent } from "./driver-types.js";
import type { Session } from "./session.js";

/**
 * Turns an adapter's `connectionLost(reason)` reports into at most one event per connection
 * for the `Driver`'s listeners, and marks the session disconnected so the next operation
 * reconnects instead of failing on a dead connection. Internal to core.
 *
 * A report is dropped when it cannot be about the connection core holds: the driver is closed,
 * or core is not connected (it closed or destroyed the connection itself, after a deadline or a
 * failed ping, or between `per-cycle` cycles). A report arriving while an operation runs is kept
 * until it ends: that operation sees the failure itself (its phase fails and it reconnects), and
 * only a connection it leaves behind still broken is then reported.
 */
export class ConnectionWatch {
  readonly #listeners = new Set<(event: ConnectionLostEvent) => void>();
  #pending: { reason: string; generation: number } | undefined;
  #busy = false;

  constructor(
    private readonly session: Session,
    private readonly target: string,
    private readonly driver: string,
  ) {}

  /**
   * What core gives the adapter as `AdapterTarget.connectionLost`. Safe to call from inside a
   * client library's event handler: the work happens after that handler returned.
   */
  readonly report = (reason: unknown): void => {
    if (this.session.closed || !this.session.connected) return;
    const generation = this.session.generation;
    const text = typeof reason === "string" ? reason : String(reason);
    queueMicrotask(() => this.#handle(text, generation));
  };

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: (event: ConnectionLostEvent) => void): () => void {
    if (typeof listener !== "function") throw new TypeError("onConnectionLost(listener): listener must be a function");
    // Wrapped, so that one function subscribed twice gets two independent subscriptions.
    const entry = (event: ConnectionLostEvent): void => listener(event);
    this.#listeners.add(entry);
    return () => void this.#listeners.delete(entry);
  }

  /** Called as each operation on the target starts (true) and ends (false). */
  busy(running: boolean): void {
    this.#busy = running;
    const pending = this.#pending;
    if (running || !pending) return;
    this.#pending = undefined;
    this.#handle(pending.reason, pending.generation);
  }

  #handle(reason: string, generation: number): void {
    const { session } = this;
    if (session.closed || !session.connected || session.generation !== generation) return;
    if (this.#busy) {
      this.#pending ??= { reason, generation };
      return;
    }
    session.drop();
    const event: ConnectionLostEvent = { target: this.target, driver: this.driver, reason: session.clean(reason) || "connection lost", at: Date.now() };
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A failing listener must not keep the others from hearing it, nor reach the client
        // library whose event this came from.
      }
    }
  }
}
