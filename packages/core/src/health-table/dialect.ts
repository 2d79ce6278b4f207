import type { AdapterTarget } from "../contract/driver-definition.js";
import type { ErrorKind } from "../contract/errors.js";
import type { RoleInfo } from "../contract/types.js";
import type { ConnectionPeer } from "./connection-peer.js";

/**
 * What every call of a dialect receives: the phase's `signal`, which aborts at the phase
 * deadline, and that deadline itself (a `performance.now()` time), for an engine that must wait
 * in small steps itself (SQLite retries a locked file until shortly before it). The signal is
 * valid only until the call settles: keep no reference to it.
 */
export interface DialectCall {
  signal: AbortSignal;
  /** `performance.now()` at which the phase's configured deadline passes. */
  deadline: number;
  /**
   * False for an attempt that need not succeed now: the CREATE TABLE at connect, which the write
   * makes again within its own deadline when this one fails. Do not wait for a lock held
   * elsewhere then (try once). @default true
   */
  waitForLocks?: boolean;
}

/**
 * What a driver's `createDialect` receives: the target as an adapter gets it, and `lost()`.
 */
export interface DialectTarget extends AdapterTarget {
  /**
   * Report that the connection you hold died between operations, with the client's error (an
   * `error` or `end` event). Core maps it with `classifyError`, redacts it and tells the
   * driver's `onConnectionLost` listeners, so the target is probed at once. Report only for the
   * connection you hold now: unset it in `close()`/`destroy()` before closing it.
   */
  lost(err: unknown): void;
}

/** What {@link HealthTableDialect.role} may use besides the call. */
export interface RoleContext {
  /** Whether the health table is known to exist on this connection (a replica then reads the heartbeat lag from it). */
  tableExists: boolean;
  /** A client error as a report would say it (mapped by `classifyError` and redacted): for `RoleInfo.warnings`. */
  explain(err: unknown): string;
}

/** What the connect-time catalog check found. */
export interface TableCheck {
  /** The health table exists. */
  exists: boolean;
  /** The node is a replica (the table is then never created): give it when the same statement tells it cheaply. */
  replica?: boolean;
}

/**
 * A driver's one error hook: what a client error means. Everything may be left out: the kind
 * then follows the phase (`connect` during connect, else `query`) and the message is the error's.
 *
 * @example
 * ```ts
 * classifyError: (err) => ({ kind: KINDS[code(err)], message: `${err.message} (SQLSTATE ${code(err)})`, tableMissing: code(err) === "42P01" }),
 * ```
 */
export interface ClassifiedError {
  /** What a health report acts on: `auth`, `permission`, `readonly`, `timeout`, `connect`, `query`. */
  kind?: ErrorKind;
  /** The text to report, before redaction (the client's message with its error code). @default the error's message */
  message?: string;
  /** The statement failed because the health table does not exist (`42P01`, `1146`, `no such table`, `208`). */
  tableMissing?: boolean;
}

/**
 * What a driver supplies: its engine's primitives (open, ping, role, close…) and statements on the
 * health table (create, upsert, select, prune, the catalog checks), plus ONE hook that says what a
 * client error means. Core runs the health-table protocol around them for every engine the same
 * way (see {@link healthTableAdapter}): creating the table when it is missing and allowed, never on
 * a replica; remembering why CREATE failed; creating it again and retrying a write when it was
 * dropped; pruning other probers' rows older than `pruneAfter` once a minute; reading the catalog
 * instead on a replica or read-only node that has no table; closing a connection that completed
 * after its deadline; mapping and redacting every error. Throw the client's errors as they are.
 *
 * Statements bind values, never interpolate them, except the table name (quote it yourself).
 *
 * @example
 * ```ts
 * const dialect: HealthTableDialect = {
 *   driver: "foo",
 *   table: '"_health_check"',
 *   async connect() { db = await foo.open(path); },
 *   async ping() { await db.query("SELECT 1"); },
 *   async role() { return { role: "primary", readOnly: false }; },   // no replication: "primary"
 *   async inspect() { return { exists: (await db.query(EXISTS, [name])).rows.length > 0 }; },
 *   async createTable() { await db.query(CREATE); },
 *   async upsert(probeId, token) { await db.query(UPSERT, [probeId, token]); },
 *   async select(probeId) { return (await db.query(SELECT, [probeId])).rows[0]?.token; },
 *   async prune(probeId, seconds) { await db.query(PRUNE, [probeId, seconds]); },
 *   async catalogRead() { await db.query("SELECT count(*) FROM pg_catalog.pg_class"); },
 *   classifyError: (err) => ({ kind: KINDS[err.code], tableMissing: err.code === "42P01" }),
 *   async close() { await db?.close(); db = undefined; },
 * };
 * ```
 */
export interface HealthTableDialect {
  /** Engine name, as the definition's `name`: errors carry it. */
  driver: string;
  /** The health table as the statements name it (quoted, schema-qualified): messages show it. */
  table: string;
  /** Secrets beyond the DSN's to redact from every message (a password read from the environment). */
  secrets?: readonly string[];

  /**
   * Opens the single connection and prepares the session (server-side limits: see
   * `serverLimits`). Core closes it (`destroy()`) when it completes after the deadline, and then
   * checks the health table (`inspect`).
   */
  connect(call: DialectCall): Promise<void>;
  /** Cheapest round trip that proves the server answers (`SELECT 1`). */
  ping(call: DialectCall): Promise<void>;
  /**
   * Primary/replica, read-only state and lag. An engine without replication answers `primary`
   * (with `readOnly: true` and the reason in `detail` when it refuses writes, which makes the
   * target degraded); `unknown` only when the role cannot be told.
   */
  role(call: DialectCall, context: RoleContext): Promise<RoleInfo>;
  /** Number of client connections, for `db_connection_count`. */
  connections?(call: DialectCall): Promise<number>;
  /** The server's limit on client connections (`max_connections`), for `db_connections_max`. */
  connectionLimit?(call: DialectCall): Promise<number>;
  /**
   * When the connection uses TLS: the server certificate's `notAfter` in milliseconds since the
   * epoch, read from the socket's peer certificate (no round trip); `undefined` without TLS.
   */
  certificateExpiry?(): number | undefined;
  /**
   * Runs one custom check read-only and returns the first column of its first row as the client
   * gives it (`undefined` when there is no row). One statement only (refuse several), in a
   * read-only transaction or session where the engine has one (PostgreSQL `BEGIN READ ONLY`,
   * MySQL `START TRANSACTION READ ONLY`, SQLite a statement that is not `readonly` refused), ended
   * so that nothing is left open; under the call's deadline and signal like every phase. A
   * statement that would write must throw and change nothing. Leave it out when the engine cannot
   * promise that: checks configured for its targets are then reported as unsupported.
   */
  readOnlyQuery?(sql: string, call: DialectCall): Promise<unknown>;
  /** False once the client said the connection is gone (core then reconnects first). */
  connected?(): boolean;
  /**
   * The host name the connection was opened for and the address its socket reached
   * (`socketPeer(host, socket)`); `undefined` for a unix socket. When given, core resolves a
   * host name again before reusing the connection and reconnects when it no longer gives that
   * address (a DNS failover): the probe checks the node the name points to now.
   */
  peer?(): ConnectionPeer | undefined;
  /** Closes gracefully; safe when not connected, and twice. Report no loss for it. */
  close(): Promise<void>;
  /** Drops the connection at once (cancel the statement, destroy the socket). Must not throw. @default close() */
  destroy?(): void;

  /** The catalog check at connect: does the health table exist (and, if it tells at once, is this a replica). */
  inspect(call: DialectCall): Promise<TableCheck>;
  /** Whether the node reports replica status, asked before a CREATE when `inspect` did not say. @default not a replica */
  isReplica?(call: DialectCall): Promise<boolean>;
  /** Creates the health table `(probe_id PRIMARY KEY, token ≥ 64 characters, checked_at)`. */
  createTable(call: DialectCall): Promise<void>;
  /**
   * Upserts this prober's row with the new token in front of the stored ones:
   * `token = left(new || ' ' || old, TOKEN_HISTORY_LENGTH)` on conflict, `checked_at` = now (UTC).
   */
  upsert(probeId: string, token: string, call: DialectCall): Promise<void>;
  /** The token column of this prober's row, or `undefined` when there is none. */
  select(probeId: string, call: DialectCall): Promise<string | undefined>;
  /** Deletes the rows of other probers (`probe_id <> probeId`) whose `checked_at` is older than `olderThanSeconds`. */
  prune(probeId: string, olderThanSeconds: number, call: DialectCall): Promise<void>;
  /** A read any node serves without the health table (`SELECT count(*) FROM <catalog>`). */
  catalogRead(call: DialectCall): Promise<void>;
  /** The driver's one error hook. */
  classifyError(err: unknown, phase: string): ClassifiedError;
}
