import { DbHealthError, TOKEN_HISTORY_LENGTH, type DialectTarget, type ErrorKind, type HealthTableDialect } from "@alfred/db-health-core";
import { pgliteDataDir } from "./pglite-dsn.js";
import { openShared, type SharedDatabase } from "./shared-database.js";

/** Every statement the probe sends. `t` is the quoted health table; values are bound. */
const SQL = {
  exists: "SELECT to_regclass($1) IS NOT NULL AS exists",
  create: (t: string) => `CREATE TABLE IF NOT EXISTS ${t} (probe_id text PRIMARY KEY, token text NOT NULL, checked_at timestamptz NOT NULL)`,
  upsert: (t: string) =>
    `INSERT INTO ${t} AS h (probe_id, token, checked_at) VALUES ($1, $2, now())
     ON CONFLICT (probe_id) DO UPDATE SET token = left(excluded.token || ' ' || h.token, ${TOKEN_HISTORY_LENGTH}), checked_at = excluded.checked_at`,
  select: (t: string) => `SELECT token FROM ${t} WHERE probe_id = $1`,
  prune: (t: string) => `DELETE FROM ${t} WHERE probe_id <> $1 AND checked_at < now() - make_interval(secs => $2)`,
  catalog: "SELECT count(*) FROM pg_catalog.pg_class",
} as const;

// SQLSTATE classes (PGlite errors carry PostgreSQL's `code`) and Node's file-system codes.
const KINDS: Record<string, ErrorKind> = { "42501": "permission", "25006": "readonly", "57014": "timeout", EACCES: "permission", EPERM: "permission" };

/**
 * The PGlite dialect: the statements and primitives core's health-table protocol runs (creating
 * the table, retrying, pruning and the rest are core's). PGlite runs PostgreSQL on this thread,
 * so no timer interrupts a running statement and there is nothing to cancel server-side: core's
 * deadlines end the phase, and `destroy()` lets go of the instance.
 *
 * It never reports a lost connection (`target.lost`): the "connection" is an instance in this
 * process, with no socket or server that could go away between cycles. There is no replication
 * either, so the role is `primary`, read-only when the instance refuses writes (then degraded).
 *
 * @example
 * ```ts
 * const adapter = healthTableAdapter(target, createPgliteDialect);
 * ```
 */
export function createPgliteDialect(target: DialectTarget): HealthTableDialect {
  const dataDir = pgliteDataDir(target.dsn);
  const table = `"${target.config.healthTable.replace(/"/g, '""')}"`;
  let shared: SharedDatabase | undefined;
  const db = (): SharedDatabase["db"] => {
    if (!shared) throw new DbHealthError("connect", "not connected", { driver: "pglite" });
    return shared.db;
  };
  const letGo = (): Promise<void> => {
    const current = shared;
    shared = undefined;
    return current?.release() ?? Promise.resolve();
  };

  return {
    driver: "pglite",
    table,
    async connect() {
      shared = await openShared(dataDir);
    },
    ping: async () => void (await db().query("SELECT 1")),
    async role() {
      const { rows } = await db().query<{ ro: string }>("SELECT current_setting('transaction_read_only') AS ro");
      const readOnly = rows[0]?.ro === "on";
      return { role: "primary", readOnly, ...(readOnly ? { detail: "default_transaction_read_only is on" } : {}) };
    },
    inspect: async () => ({ exists: (await db().query<{ exists: boolean }>(SQL.exists, [table])).rows[0]?.exists === true }),
    createTable: async () => void (await db().exec(SQL.create(table))),
    upsert: async (probeId, token) => void (await db().query(SQL.upsert(table), [probeId, token])),
    select: async (probeId) => (await db().query<{ token: string }>(SQL.select(table), [probeId])).rows[0]?.token,
    prune: async (probeId, seconds) => void (await db().query(SQL.prune(table), [probeId, seconds])),
    catalogRead: async () => void (await db().query(SQL.catalog)),
    // A custom check (`checks:`): PGlite's transaction() keeps every other query of the shared
    // instance out until it ends; the check goes through query(), the extended protocol, which
    // refuses several statements; the transaction is read-only and always rolled back.
    readOnlyQuery: (sql) =>
      db().transaction(async (tx) => {
        await tx.exec("SET TRANSACTION READ ONLY");
        try {
          return (await tx.query<unknown[]>(sql, [], { rowMode: "array" })).rows[0]?.[0];
        } finally {
          if (!tx.closed) await tx.rollback();
        }
      }),
    classifyError(err, phase) {
      const code = String((err as { code?: unknown } | undefined)?.code ?? "");
      const message = err instanceof Error ? err.message : String(err);
      const prefix = phase === "check" && code === "25006" ? "a check must not write: " : phase === "check" && code === "42601" && /multiple commands/.test(message) ? "a check runs one statement only: " : "";
      return { kind: KINDS[code], message: prefix + (code && !message.includes(code) ? `${message} (${code})` : message), tableMissing: code === "42P01" };
    },
    connected: () => shared !== undefined && !shared.db.closed,
    close: letGo,
    destroy: () => void letGo().catch(() => undefined),
  };
}
