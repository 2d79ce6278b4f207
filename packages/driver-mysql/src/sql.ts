/**
 * Every statement the MySQL/MariaDB driver sends, in one place for review. `t` is the
 * backtick-quoted, optionally schema-qualified health table. Values are always bound.
 */
import { TOKEN_HISTORY_LENGTH } from "@alfred/db-health-core";

export const SQL = {
  /** At connect: the dialect, whether the table exists in the session's database, and the connection limit. */
  setup: `SELECT VERSION() AS version,
                 (SELECT COUNT(*) FROM information_schema.tables
                   WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ?) AS has_table,
                 @@GLOBAL.max_connections AS max_connections`,
  /** Server-side limits just under the phase deadlines, per dialect. */
  limitsMariaDb: `SET SESSION max_statement_time = ?, innodb_lock_wait_timeout = ?, lock_wait_timeout = ?`,
  limitsMySql: `SET SESSION max_execution_time = ?, innodb_lock_wait_timeout = ?, lock_wait_timeout = ?`,
  create: (t: string) =>
    `CREATE TABLE IF NOT EXISTS ${t} (
       probe_id   VARCHAR(128) NOT NULL PRIMARY KEY,
       token      VARCHAR(64)  NOT NULL,
       checked_at DATETIME(6)  NOT NULL
     ) ENGINE=InnoDB`,
  ping: `SELECT 1`,
  readOnlyMariaDb: `SELECT @@global.read_only AS read_only, @@session.tx_read_only AS tx_read_only`,
  readOnlyMySql: `SELECT @@global.read_only AS read_only, @@global.super_read_only AS super_read_only, @@session.transaction_read_only AS tx_read_only`,
  replicaStatus: `SHOW REPLICA STATUS`,
  slaveStatus: `SHOW SLAVE STATUS`,
  /** On a replica: age of the freshest heartbeat any prober wrote on the primary (UTC both). */
  heartbeatLag: (t: string) => `SELECT TIMESTAMPDIFF(MICROSECOND, MAX(checked_at), UTC_TIMESTAMP(6)) / 1000000 AS lag FROM ${t}`,
  /**
   * The new token goes in front of the ones stored (probers may share a probe id: see core's
   * TOKEN_HISTORY_LENGTH). MySQL evaluates the assignments left to right, so `token` on the
   * right of the first is still the stored value.
   */
  write: (t: string) =>
    `INSERT INTO ${t} (probe_id, token, checked_at) VALUES (?, ?, UTC_TIMESTAMP(6))
     ON DUPLICATE KEY UPDATE token = LEFT(CONCAT(VALUES(token), ' ', token), ${TOKEN_HISTORY_LENGTH}), checked_at = VALUES(checked_at)`,
  /** Rows of probers gone for longer than pruneAfter; run at most once a minute. */
  prune: (t: string) => `DELETE FROM ${t} WHERE probe_id <> ? AND checked_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND`,
  read: (t: string) => `SELECT token FROM ${t} WHERE probe_id = ?`,
  /** A read a replica without the health table can still serve. */
  catalogRead: `SELECT COUNT(*) AS n FROM information_schema.schemata`,
  connections: `SHOW GLOBAL STATUS LIKE 'Threads_connected'`,
  /** The connection limit again (SET GLOBAL changes it at run time), at most every LIMIT_REFRESH_MS. */
  connectionLimit: `SELECT @@GLOBAL.max_connections AS max_connections`,
  killQuery: `KILL QUERY ?`,
} as const;

/** Quotes an identifier with backticks. */
export function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, "``")}\``;
}
