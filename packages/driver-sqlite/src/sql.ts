import { TOKEN_HISTORY_LENGTH } from "@alfred/db-health-core";

/** Every statement the SQLite driver sends, in one place for review. `t` is the quoted health table; timestamps are ISO-8601 UTC. */
export const SQL = {
  upsert: (t: string) =>
    `INSERT INTO ${t} (probe_id, token, checked_at) VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
     ON CONFLICT (probe_id) DO UPDATE SET token = substr(excluded.token || ' ' || token, 1, ${TOKEN_HISTORY_LENGTH}), checked_at = excluded.checked_at`,
  prune: (t: string) => `DELETE FROM ${t} WHERE probe_id <> ? AND checked_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)`,
  read: (t: string) => `SELECT token FROM ${t} WHERE probe_id = ?`,
  ping: () => "SELECT 1",
  create: (t: string) => `CREATE TABLE IF NOT EXISTS ${t} (probe_id TEXT PRIMARY KEY NOT NULL, token TEXT NOT NULL, checked_at TEXT NOT NULL)`,
  exists: () => "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?",
  catalog: () => "SELECT count(*) FROM sqlite_schema",
} as const;
