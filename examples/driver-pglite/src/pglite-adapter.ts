import { DbHealthError, TOKEN_HISTORY_LENGTH, type AdapterTarget, type DriverAdapter, type ErrorKind } from "@alfred/db-health-core";
import { pgliteDataDir } from "./pglite-dsn.js";
import { openShared, type SharedDatabase } from "./shared-database.js";

/** Every statement the probe sends. `$1` is always this prober's `probe_id`. */
const SQL = {
  create: (t: string) => `CREATE TABLE IF NOT EXISTS ${t} (probe_id text PRIMARY KEY, token text NOT NULL, checked_at timestamptz NOT NULL)`,
  upsert: (t: string) =>
    `INSERT INTO ${t} AS h (probe_id, token, checked_at) VALUES ($1, $2, now())
     ON CONFLICT (probe_id) DO UPDATE SET token = left(excluded.token || ' ' || h.token, ${TOKEN_HISTORY_LENGTH}), checked_at = excluded.checked_at`,
  read: (t: string) => `SELECT token FROM ${t} WHERE probe_id = $1`,
} as const;

/**
 * The PGlite adapter. PGlite runs PostgreSQL on this thread, so no timer interrupts a running
 * statement and there is nothing to cancel server-side: core's deadlines end the phase, and
 * `destroy()` lets go of the instance.
 *
 * It never reports a lost connection (`target.connectionLost`, optional in the contract): the
 * "connection" is an instance in this process, with no socket or server that could go away
 * between cycles. The instance only closes when we release it, and a failing one fails the
 * next phase, which reports it.
 *
 * @example
 * ```ts
 * const adapter = createPgliteAdapter(target);
 * await adapter.connect(AbortSignal.timeout(30_000));
 * ```
 */
export function createPgliteAdapter(target: AdapterTarget): DriverAdapter {
  const { config, redact } = target;
  const dataDir = pgliteDataDir(target.dsn);
  const table = `"${config.healthTable.replace(/"/g, '""')}"`;
  let shared: SharedDatabase | undefined;

  const run = async <T>(phase: string, fn: (db: SharedDatabase["db"]) => Promise<T>): Promise<T> => {
    if (!shared) throw new DbHealthError("connect", "not connected", { driver: "pglite" });
    try {
      return await fn(shared.db);
    } catch (err) {
      throw toError(err, phase, redact);
    }
  };
  const letGo = (): Promise<void> => {
    const current = shared;
    shared = undefined;
    return current?.release() ?? Promise.resolve();
  };

  return {
    async connect(signal) {
      try {
        shared = await openShared(dataDir);
        // Core gave up on this attempt while PGlite was starting: do not keep the reference.
        if (signal.aborted) throw new DbHealthError("timeout", "connect finished after its deadline", { driver: "pglite" });
        if (config.createHealthTable) await shared.db.exec(SQL.create(table));
      } catch (err) {
        await letGo();
        throw toError(err, "connect", redact);
      }
    },
    ping: (signal) => run("ping", (db) => db.query("SELECT 1")).then(() => signal.throwIfAborted()),
    role: () =>
      run("role", async (db) => {
        const { rows } = await db.query<{ ro: string }>("SELECT current_setting('transaction_read_only') AS ro");
        const readOnly = rows[0]?.ro === "on";
        return { role: "primary", readOnly, ...(readOnly ? { detail: "default_transaction_read_only is on" } : {}) };
      }),
    write: (token) => run("write", (db) => db.query(SQL.upsert(table), [config.probeId, token])).then(() => undefined),
    read: () => run("read", async (db) => (await db.query<{ token: string }>(SQL.read(table), [config.probeId])).rows[0]?.token),
    connected: () => shared !== undefined && !shared.db.closed,
    close: letGo,
    destroy: () => void letGo().catch(() => undefined),
  };
}

// SQLSTATE classes (PGlite errors carry PostgreSQL's `code`) and Node's file-system codes.
const KINDS: Record<string, ErrorKind> = { "42501": "permission", "25006": "readonly", "57014": "timeout", EACCES: "permission", EPERM: "permission" };

function toError(err: unknown, phase: string, redact: (text: string) => string): DbHealthError {
  if (err instanceof DbHealthError) return err;
  const code = String((err as { code?: unknown } | undefined)?.code ?? "");
  const kind = KINDS[code] ?? (phase === "connect" ? "connect" : "query");
  const message = err instanceof Error ? err.message : String(err);
  return new DbHealthError(kind, redact(code && !message.includes(code) ? `${message} (${code})` : message), { driver: "pglite", cause: err });
}
