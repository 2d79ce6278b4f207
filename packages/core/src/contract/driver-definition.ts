import type { ParsedDsn } from "../dsn/dsn.js";
import type { DriverAdapter } from "./driver-adapter.js";
import type { TargetConfig } from "../config/types.js";

/** What a driver's `createAdapter` receives: one resolved target. */
export interface AdapterTarget {
  /** The resolved per-target configuration (durations in ms). */
  config: TargetConfig;
  /** The parsed DSN, password included: keep it inside the adapter. */
  dsn: ParsedDsn;
  /** Redacts this target's secrets from any text (client errors, logs). */
  redact(text: string): string;
  /**
   * Report that the connection you hold was lost between operations (the server closed it, or
   * the client library emitted an error for it), with the client's words as the reason. Core
   * then marks the target disconnected, so the next operation reconnects, and tells the
   * `Driver`'s `onConnectionLost` listeners, so a daemon probes at once instead of at its next
   * interval. Optional for an adapter to call (an engine without a connection, such as SQLite,
   * never does); core provides it to every adapter it creates (optional in the type only for
   * code that creates adapters itself, such as tests).
   *
   * Report only for the connection you hold now: an event of a connection you are closing or
   * destroying, or have already replaced, is not a loss. Core ignores reports for a closed
   * driver or a connection it closed itself, and makes any number of reports about one
   * connection a single event; the reason goes through this target's redaction.
   *
   * @example
   * ```ts
   * client.on("error", (err) => { if (client === current) target.connectionLost?.(err.message); });
   * client.on("end", () => { if (client === current) target.connectionLost?.("the server closed the connection"); });
   * ```
   */
  connectionLost?(reason: string): void;
}

/** What a driver can do, for the conformance suite and for callers. */
export interface DriverCapabilities {
  /** Detects primary/replica roles. @default false */
  replication?: boolean;
  /** Can count client connections. @default false */
  connectionCount?: boolean;
  /** Needs a server (false for embedded engines such as SQLite). @default true */
  server?: boolean;
  /** Has user authentication (false for SQLite). @default true */
  authentication?: boolean;
}

/**
 * A driver package's entry: its names, the DSN schemes it claims and the adapter factory
 * (made from the driver's dialect by `defineDriver`).
 *
 * @example
 * ```ts
 * export const sqliteDriver: DriverDefinition = defineDriver({
 *   name: "sqlite",
 *   packageName: "@alfred/db-health-driver-sqlite",
 *   schemes: ["file", "sqlite"],
 *   createDialect: (target) => createSqliteDialect(target),
 * });
 * registerDriver(sqliteDriver);
 * ```
 */
export interface DriverDefinition {
  /** Engine name, used as the `db_name` label: `postgres`, `mysql`, `sqlite`, `mssql`. */
  name: string;
  /** npm package that provides it, named in errors (duplicate schemes, missing drivers). */
  packageName?: string;
  /** Lower-case DSN schemes this driver handles. */
  schemes: readonly string[];
  /** What the driver can do. */
  capabilities?: DriverCapabilities;
  /**
   * Checks a target's DSN for what this driver cannot accept (unknown parameters, bad modes)
   * by throwing a `config` DbHealthError, so that a CLI can report every target's problems at
   * once before creating anything. `createAdapter` must reject the same DSNs.
   */
  validate?(dsn: ParsedDsn): void;
  /**
   * Deadlines a DSN itself sets (libpq `connect_timeout`, Go MySQL `timeout`/`readTimeout`/
   * `writeTimeout`), in milliseconds. They can only tighten the configured ones: core uses the
   * smaller of the two.
   */
  timeoutsFromDsn?(dsn: ParsedDsn): Partial<Record<"connectTimeout" | "readTimeout" | "writeTimeout", number>>;
  /**
   * Creates the adapter for one target. Must not connect yet. A driver built with
   * `defineDriver` gets it from `createDialect` (core's health-table protocol around the
   * dialect); writing an adapter by hand is the deprecated 1.x contract.
   */
  createAdapter(target: AdapterTarget): DriverAdapter;
}
