/**
 * Every T-SQL statement the SQL Server driver sends, in one place for review. `t` is the
 * bracket-quoted, schema-qualified health table (`[dbo].[_health_check]` by default). Values are
 * always bound parameters (`@probe_id`, `@token`, …). A test parses each with a T-SQL parser.
 */
import { TOKEN_HISTORY_LENGTH } from "@alfred/db-health-core";

export const SQL = {
  ping: `SELECT 1 AS one`,
  tableExists: `SELECT CASE WHEN OBJECT_ID(@table, N'U') IS NULL THEN 0 ELSE 1 END AS has_table`,
  create: (t: string) =>
    `CREATE TABLE ${t} (probe_id NVARCHAR(128) NOT NULL PRIMARY KEY, token NVARCHAR(64) NOT NULL, checked_at DATETIME2(6) NOT NULL)`,
  /** Per-batch lock wait bound, in milliseconds, sent before the write. */
  lockTimeout: (ms: number) => `SET LOCK_TIMEOUT ${Math.max(0, Math.floor(ms))}`,
  /**
   * Update-then-insert in one batch: the INSERT adds the row only when the UPDATE found none.
   * The new token goes in front of the ones stored (probers may share a probe id: see core's
   * TOKEN_HISTORY_LENGTH); two probers writing a new id at once make one INSERT fail with 2627,
   * and the adapter runs the batch again (now an UPDATE).
   */
  write: (t: string) =>
    `UPDATE ${t} SET token = LEFT(@token + NCHAR(32) + token, ${TOKEN_HISTORY_LENGTH}), checked_at = SYSUTCDATETIME() WHERE probe_id = @probe_id;
     INSERT INTO ${t} (probe_id, token, checked_at) SELECT @probe_id, @token, SYSUTCDATETIME()
       WHERE NOT EXISTS (SELECT 1 FROM ${t} WHERE probe_id = @probe_id);`,
  prune: (t: string) => `DELETE FROM ${t} WHERE probe_id <> @probe_id AND checked_at < DATEADD(SECOND, -@age, SYSUTCDATETIME())`,
  read: (t: string) => `SELECT token FROM ${t} WHERE probe_id = @probe_id`,
  updateability: `SELECT CAST(DATABASEPROPERTYEX(DB_NAME(), 'Updateability') AS NVARCHAR(20)) AS updateability`,
  /** Availability Group role of this database on this replica (empty when not in an AG). */
  agRole: `SELECT TOP 1 is_primary_replica, secondary_lag_seconds FROM sys.dm_hadr_database_replica_states WHERE database_id = DB_ID() AND is_local = 1`,
  /** A read a secondary without the health table can still serve. */
  catalogRead: `SELECT COUNT(*) AS n FROM sys.objects`,
  heartbeatLag: (t: string) => `SELECT DATEDIFF_BIG(MICROSECOND, MAX(checked_at), SYSUTCDATETIME()) / 1000000.0 AS lag FROM ${t}`,
  /** The count and, in the same statement, the connection limit (issue 19; see mssqlConnectionLimit). */
  connections: `SELECT COUNT(*) AS n, max_connections = @@MAX_CONNECTIONS FROM sys.dm_exec_sessions WHERE database_id = DB_ID() AND is_user_process = 1`,
  /** The connection limit alone, when the count did not run. */
  connectionLimit: `SELECT max_connections = @@MAX_CONNECTIONS`,
} as const;

/** Quotes an identifier with brackets. */
export function quoteIdent(name: string): string {
  return `[${name.replace(/]/g, "]]")}]`;
}
