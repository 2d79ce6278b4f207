import { TOKEN_HISTORY_LENGTH } from "@alfred/db-health-core";

/**
 * Every statement the PostgreSQL driver sends, in one place for review. `t` is the quoted,
 * optionally schema-qualified health table. Parameters are always bound, never interpolated.
 */
// The limit an application meets: the reserved slots are for superusers (and PG 16's pg_use_reserved_connections).
// Every setting read with missing_ok, so a PostgreSQL-compatible server without one of them gives no
// limit (NULL) instead of failing the count it is read with.
const LIMIT = `(current_setting('max_connections', true)::int - COALESCE(current_setting('superuser_reserved_connections', true)::int, 0)
                - COALESCE(current_setting('reserved_connections', true)::int, 0))`;

export const SQL = {
  /** At connect: does the table exist, and is this node a replica (then never CREATE). */
  setup: `SELECT to_regclass($1) IS NOT NULL AS has_table, pg_is_in_recovery() AS in_recovery`,
  create: (t: string) =>
    `CREATE TABLE IF NOT EXISTS ${t} (
       probe_id   text        PRIMARY KEY,
       token      text        NOT NULL,
       checked_at timestamptz NOT NULL DEFAULT now()
     )`,
  ping: `SELECT 1`,
  /** $1: the health table; it can appear on a replica after we connected (replicated). */
  role: `SELECT pg_is_in_recovery() AS replica,
                to_regclass($1) IS NOT NULL AS has_table,
                current_setting('default_transaction_read_only') AS default_read_only,
                current_setting('transaction_read_only') AS read_only,
                CASE WHEN pg_is_in_recovery()
                     THEN EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 END AS replay_lag`,
  /** On a replica: age of the freshest heartbeat any prober wrote on the primary. */
  heartbeatLag: (t: string) => `SELECT EXTRACT(EPOCH FROM now() - max(checked_at))::float8 AS lag FROM ${t}`,
  /** The new token goes in front of the ones stored (probers may share a probe id: see core's TOKEN_HISTORY_LENGTH). */
  write: (t: string) =>
    `INSERT INTO ${t} AS h (probe_id, token, checked_at) VALUES ($1, $2, now())
     ON CONFLICT (probe_id) DO UPDATE SET token = left(EXCLUDED.token || ' ' || h.token, ${TOKEN_HISTORY_LENGTH}), checked_at = EXCLUDED.checked_at`,
  /**
   * Rows of probers gone for longer than pruneAfter; best effort (a role may lack DELETE) and
   * at most once a minute.
   */
  prune: (t: string) => `DELETE FROM ${t} WHERE probe_id <> $1 AND checked_at < now() - make_interval(secs => $2)`,
  read: (t: string) => `SELECT token FROM ${t} WHERE probe_id = $1`,
  /** A read a replica without the health table can still serve. */
  catalogRead: `SELECT count(*) FROM pg_catalog.pg_class`,
  /**
   * The count, and in the same statement the connection limit (issue 19): see {@link SQL.connectionLimit}.
   */
  connections: `SELECT count(*)::int AS n, ${LIMIT} AS max FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`,
  /**
   * The connections a role without superuser (or, on PostgreSQL 16+, pg_use_reserved_connections)
   * can open before the server refuses it: `max_connections` less `superuser_reserved_connections`
   * and, where it exists, `reserved_connections`. Asked alone only when the count did not run.
   */
  connectionLimit: `SELECT ${LIMIT} AS max`,
} as const;

/** Quotes an identifier the way PostgreSQL does. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
