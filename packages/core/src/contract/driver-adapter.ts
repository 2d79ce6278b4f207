import type { ConnectionPeer } from "../health-table/connection-peer.js";
import type { RoleInfo } from "./types.js";

/**
 * What core runs for one target: the connection and the health-table phases. One instance
 * serves one target and holds at most one connection. Core adds timing, deadlines, retries,
 * status and metrics around it, the same for every engine.
 *
 * Drivers no longer write it: a driver supplies a `HealthTableDialect` and
 * `defineDriver` (or `healthTableAdapter`) makes the adapter, with the health-table
 * protocol (create, remember a failed CREATE, retry a write on a dropped table, prune, replica
 * fallback, late connects) done once by core. An adapter written by hand against this interface
 * keeps working through 1.x (core guards and runs it as before) but must do all of that itself.
 *
 * @deprecated as a contract for drivers to implement: write a `HealthTableDialect` and use
 * `defineDriver` (see docs/writing-a-driver.md, "Migrating an adapter"). The type stays, as what
 * `DriverDefinition.createAdapter` returns.
 *
 * Every method receives an `AbortSignal` that fires when the phase deadline passes. Honour it
 * where the client allows; core ends the phase on time regardless and then calls `destroy()`.
 *
 * @example
 * ```ts
 * const adapter: DriverAdapter = {
 *   async connect() { conn = await client.connect(); },
 *   async ping() { await conn.query("SELECT 1"); },
 *   async role() { return { role: "unknown", readOnly: false }; },
 *   // UPSERT: INSERT … ON CONFLICT (probe_id) DO UPDATE SET token = left(excluded.token || ' ' || token, 64), checked_at = …
 *   async write(token) { await conn.query(UPSERT, [probeId, token]); },
 *   async read() { return (await conn.query(SELECT, [probeId])).rows[0]?.token; },
 *   async close() { await conn?.end(); },
 * };
 * ```
 *
 * Every method gets the `signal` of its phase, which aborts at the phase deadline. It is valid
 * only until the call settles: core reuses the signals of phases that ended in time, so keep no
 * reference to it (nor a signal derived from it with `AbortSignal.any`) beyond the call.
 *
 * A connection that dies between operations is reported through the target's optional
 * `connectionLost(reason)` callback (see `AdapterTarget`), so the target is probed at once
 * rather than at its next interval; `connected()` then returns false as well.
 */
export interface DriverAdapter {
  /**
   * Opens the target's single connection; creates the health table when allowed. If `signal`
   * has aborted by the time the connection is established (the deadline passed), close it
   * and throw rather than keep it: core has already given up on this attempt.
   */
  connect(signal: AbortSignal): Promise<void>;
  /** Cheapest round trip that proves the server answers (`SELECT 1`). */
  ping(signal: AbortSignal): Promise<void>;
  /** Detects primary/replica, read-only state and replication lag. */
  role(signal: AbortSignal): Promise<RoleInfo>;
  /**
   * Upserts this prober's row `(probe_id, token, checked_at)`, putting the token in front of
   * the ones stored: `token = left(new || ' ' || old, TOKEN_HISTORY_LENGTH)` on conflict, so that
   * probers sharing a probe id do not overwrite each other's token before it is read back.
   */
  write(token: string, signal: AbortSignal): Promise<void>;
  /** Returns the token column of this prober's row as stored, or `undefined` when there is none. */
  read(signal: AbortSignal): Promise<string | undefined>;
  /** Number of client connections to the database, for `db_connection_count`. */
  connections?(signal: AbortSignal): Promise<number>;
  /** The server's limit on client connections (`max_connections`), for `db_connections_max`. */
  connectionLimit?(signal: AbortSignal): Promise<number>;
  /**
   * When the connection uses TLS: the server certificate's `notAfter`, in milliseconds since the
   * epoch, as the handshake presented it (no round trip); `undefined` without TLS.
   */
  certificateExpiry?(): number | undefined;
  /**
   * Runs one custom check (`checks:` in the configuration) read-only and returns the first column
   * of its first row as the client gives it (`undefined` when there is no row). One statement
   * only, in a read-only transaction or session where the engine has one; a statement that would
   * write must fail and change nothing. `signal` aborts at the check's timeout (`timeoutMs`).
   */
  check?(sql: string, signal: AbortSignal, timeoutMs: number): Promise<unknown>;
  /**
   * False when the adapter already knows its connection is gone (the server closed it between
   * cycles); core then reconnects before the next phase instead of failing it.
   */
  connected?(): boolean;
  /**
   * The host the connection was opened for and the address its socket reached; `undefined` for
   * a unix socket or no connection. Core resolves a host name again before reusing the
   * connection and reconnects when the name no longer gives that address (see
   * `HealthTableDialect.peer`).
   */
  peer?(): ConnectionPeer | undefined;
  /** Closes the connection gracefully. Must be safe to call when not connected. */
  close(): Promise<void>;
  /**
   * Drops the connection at once after a missed deadline (socket destroy, statement cancel).
   * Must not throw. Core falls back to `close()` when absent.
   */
  destroy?(): void;
}
