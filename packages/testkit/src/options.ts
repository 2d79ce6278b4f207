import type { DriverCapabilities, DriverDefinition, TargetOptions } from "@alfred/db-health-core";

/** A DSN, or a function producing one (after the test set-up created the database). */
export type DsnSource = string | (() => string | Promise<string>);

/**
 * Options of {@link runConformanceSuite}.
 *
 * @example
 * ```ts
 * runConformanceSuite({
 *   driver: sqliteDriver,
 *   dsn: () => `file:${dir}/conformance.db`,
 *   countHealthRows: async (dsn, table, probeId) =>
 *     new Database(dsnPath(dsn)).prepare(`SELECT count(*) FROM "${table}" WHERE probe_id = ?`).pluck().get(probeId),
 * });
 * ```
 */
export interface ConformanceOptions {
  /** The driver under test. */
  driver: DriverDefinition;
  /** A reachable, writable target. */
  dsn: DsnSource;
  /** Extra per-target settings for every driver the suite creates (timeouts, schema…). */
  config?: Partial<TargetOptions>;
  /**
   * Counts the rows of one prober (`probe_id = probeId`) in the health table `table` of `dsn`,
   * through the engine's own client; used to prove the table holds exactly one row per prober,
   * and that pruning removes stale rows (on a table of its own, `_health_prune_<pid>`).
   */
  countHealthRows(dsn: string, table: string, probeId: string): Promise<number>;
  /**
   * A DSN with a wrong password for a server that exists. Required when the driver has
   * `capabilities.authentication` (the default).
   */
  badCredentialsDsn?: DsnSource;
  /** The password inside `badCredentialsDsn`: it must appear nowhere in results or errors. */
  badCredentialsSecret?: string;
  /** A DSN the driver cannot reach or open, for the `down` checks. */
  unreachableDsn: DsnSource;
  /**
   * Optional: closes, from the server's side, every session of the prober with this probe id
   * that the driver under test holds on `dsn`, and nothing else (test servers are often shared):
   * `pg_terminate_backend()` for the backends with its `application_name`, `KILL CONNECTION` for
   * the threads of a user only it uses. When given, the suite checks that the driver reports the
   * lost connection (`Driver.onConnectionLost`) within 2 s and that the next probe reconnects
   * at its first attempt and is up. Without it that check is skipped, saying so in its name.
   *
   * @example
   * ```ts
   * dropConnections: async ({ probeId }) => {
   *   await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [`db-health/1.0.0 ${probeId}`]);
   * },
   * ```
   */
  dropConnections?(target: { dsn: string; probeId: string }): Promise<void>;
  /**
   * The DSN of the lost-connection check, when `dropConnections` tells the driver's sessions
   * apart by something in it (a user only this check logs in as). @default dsn
   */
  lostConnectionDsn?: DsnSource;
  /**
   * Optional: the same database reached so that it refuses writes while it reads, as a read-only
   * primary (PostgreSQL: `?options=-c default_transaction_read_only=on`). The suite then checks
   * that a probe is `degraded` with role `primary`, `readOnly: true` and the reason
   * `primary is read-only…`. Without it that check is skipped, saying so in its name.
   */
  readOnlyDsn?: DsnSource;
  /**
   * Needed when the driver's adapter has `check` (custom read-only checks): how the suite reaches
   * the database itself to set up and inspect a scratch table, and the engine's spelling of a
   * slow query. The check cases skip themselves, saying so, when the adapter has no `check`.
   */
  checks?: CheckConformanceOptions;
  /** Overrides the definition's capabilities. */
  capabilities?: DriverCapabilities;
  /** Probe cycles of the table-growth check. @default 100 */
  cycles?: number;
  /** Timeout of each test in ms. @default 60000 */
  testTimeout?: number;
}

/** Resolves a {@link DsnSource}. */
export async function resolveDsn(source: DsnSource): Promise<string> {
  return typeof source === "function" ? source() : source;
}

/**
 * What the read-only check cases need from the engine (see {@link ConformanceOptions.checks}).
 * They create a scratch table `_health_check_scratch_<pid> (n INT)` holding one row, run checks
 * through the adapter that must fail without changing it (INSERT, UPDATE, DELETE, DROP, CREATE,
 * ALTER, several statements, and `writes`), and drop it afterwards.
 *
 * @example
 * ```ts
 * checks: {
 *   exec: async (dsn, sql) => (await withClient(dsn, (c) => c.query({ text: sql, rowMode: "array" }))).rows[0]?.[0],
 *   sleep: (seconds) => `SELECT pg_sleep(${seconds})`,
 *   writes: ["SELECT nextval('{table}_seq')"],
 * },
 * ```
 */
export interface CheckConformanceOptions {
  /**
   * Runs one statement on `dsn` through the engine's own client, on a connection of its own
   * (autocommit), and returns the first column of the first row (`undefined` without one). It
   * must throw when the statement fails: the suite proves a table does not exist that way.
   */
  exec(dsn: string, sql: string): Promise<unknown>;
  /**
   * A query that runs `seconds` long (PostgreSQL `SELECT pg_sleep(30)`, MySQL `SELECT SLEEP(30)`,
   * SQL Server `WAITFOR DELAY '00:00:30'`), for the case that a check ends at its timeout. Without
   * it that case is skipped, saying so.
   */
  sleep?(seconds: number): string;
  /**
   * More checks of the engine's own that must fail and change nothing: statements that write,
   * lock or change the session (`DELETE FROM {table} RETURNING n`, `SET autocommit = 0`);
   * `{table}` is the scratch table.
   */
  writes?: readonly string[];
}
