import { DbHealthError, serverLimits, type DialectTarget, type HealthTableDialect, type RoleInfo } from "@alfred/db-health-core";
import type * as Mssql from "mssql";
import { loadMssql, precheck, type MssqlModule } from "./mssql-client.js";
import { mssqlSettings, type MssqlSettings } from "./mssql-options.js";
import { classifyMssqlError, errorNumber } from "./mssql-errors.js";
import { mssqlConnectionLimit, TediousTls } from "./mssql-capacity.js";
import { SQL } from "./sql.js";
import { runReadOnlyQuery, type CheckConnection } from "./read-only-query.js";

type Pool = Mssql.ConnectionPool;
type Row = Record<string, unknown>;
/** The tedious connection mssql hands to `beforeConnect`. */
type TediousConnection = Parameters<NonNullable<Mssql.config["beforeConnect"]>>[0];

/**
 * The SQL Server dialect on mssql (tedious): a pool of exactly one connection per target, a
 * request timeout from core's `serverLimits` (tedious cancels the batch with an attention),
 * `SET LOCK_TIMEOUT` before the write, and on a missed deadline the pool closed without waiting
 * for tedious, so a stuck server never holds the probe. Core runs the health-table protocol around it.
 *
 * @example
 * ```ts
 * const adapter = healthTableAdapter(target, (t) => createMssqlDialect(t, version));
 * ```
 */
export function createMssqlDialect(target: DialectTarget, version = "1"): HealthTableDialect {
  const settings: MssqlSettings = mssqlSettings(target.dsn, target.config, version);
  let sql: MssqlModule | undefined;
  let pool: Pool | undefined;
  let pending: Pool | undefined;
  let broken: Error | undefined;
  /** Issue 19: the TLS of the pool's connections, and the limit read by the last connections(). */
  const tls = new TediousTls();
  let limitWithCount: unknown;

  const run = async (text: string, inputs: Record<string, string | number> = {}): Promise<Row[]> => {
    if (!pool || !sql) throw new DbHealthError("connect", "not connected", { driver: "mssql" });
    if (broken) throw broken;
    const request = pool.request();
    for (const [name, value] of Object.entries(inputs)) request.input(name, typeof value === "number" ? sql.Int : sql.NVarChar(256), value);
    return (await request.query(text)).recordset ?? [];
  };
  // Per batch: the lock wait bound, then the update-then-insert.
  const write = `${SQL.lockTimeout(serverLimits(target.config).lockMs)};\n${SQL.write(settings.table)}`;

  // Custom checks (read-only-query.ts): SQL batches, so that SET SHOWPLAN_XML stays on between them.
  const checks: CheckConnection = {
    async batch(text, cancellable) {
      if (!pool || !sql) throw new DbHealthError("connect", "not connected", { driver: "mssql" });
      if (broken) throw broken;
      const request = pool.request();
      request.arrayRowMode = true;
      cancellable?.(() => request.cancel());
      return ((await request.batch(text)).recordsets ?? []) as unknown as unknown[][][];
    },
    discard: (err) => {
      if (pool) broken ??= err;
    },
  };

  return {
    driver: "mssql",
    table: settings.table,
    async connect({ signal }) {
      await precheck(settings, signal);
      sql = await loadMssql();
      // mssql's pool does not tell when its tedious connection dies (a socket error only marks
      // it for replacement), so each tedious connection it opens is watched here: tedious emits
      // 'error' ("Connection lost - socket hang up") and then 'end'. The pool's own first,
      // test connection ends before `pool` is set, and ours that we close after it is unset.
      const lost = (err: Error): void => {
        if (pool !== p) return;
        broken ??= err;
        target.lost(err);
      };
      const beforeConnect = (conn: TediousConnection): void => {
        tls.watch(conn as unknown as Parameters<TediousTls["watch"]>[0]);
        conn.on("error", lost);
        conn.on("end", () => lost(new Error("the server closed the connection")));
      };
      const p: Pool = new sql.ConnectionPool({ ...settings.pool, beforeConnect });
      // A connection dying between cycles is reported by the next phase, never thrown at the process.
      p.on("error", (err: Error) => {
        if (pool === p) broken = err;
      });
      pending = p;
      try {
        await p.connect();
      } catch (err) {
        void p.close().catch(() => undefined);
        throw err;
      } finally {
        if (pending === p) pending = undefined;
      }
      pool = p;
      broken = undefined;
    },
    ping: async () => void (await run(SQL.ping)),
    async role(_call, { tableExists }): Promise<RoleInfo> {
      const updateability = String((await run(SQL.updateability))[0]?.updateability ?? "");
      // No VIEW SERVER STATE, or a version without the view: Updateability alone decides.
      const ag = (await run(SQL.agRole).catch(() => []))[0];
      if (ag && Number(ag.is_primary_replica) === 0) {
        const info: RoleInfo = { role: "replica", readOnly: true, detail: "Availability Group secondary" };
        const heartbeat = tableExists ? await heartbeatLag() : undefined;
        const lag = heartbeat ?? (ag.secondary_lag_seconds == null ? undefined : Number(ag.secondary_lag_seconds));
        if (lag !== undefined && Number.isFinite(lag)) info.lagSeconds = Math.max(0, lag);
        return info;
      }
      if (updateability === "READ_ONLY") return { role: "primary", readOnly: true, detail: "database Updateability is READ_ONLY" };
      return { role: "primary", readOnly: false };
    },
    inspect: async () => ({ exists: Number((await run(SQL.tableExists, { table: settings.objectName }))[0]?.has_table) === 1 }),
    createTable: async () => void (await run(SQL.create(settings.table))),
    async upsert(probeId, token) {
      try {
        await run(write, { probe_id: probeId, token });
      } catch (err) {
        // 2627: another prober with this probe id inserted the row first; it exists now.
        if (errorNumber(err) !== 2627) throw err;
        await run(write, { probe_id: probeId, token });
      }
    },
    select: async (probeId) => {
      const [row] = await run(SQL.read(settings.table), { probe_id: probeId });
      return row?.token === undefined ? undefined : String(row.token);
    },
    prune: async (probeId, age) => void (await run(SQL.prune(settings.table), { probe_id: probeId, age })),
    catalogRead: async () => void (await run(SQL.catalogRead)),
    async connections() {
      const [row] = await run(SQL.connections);
      limitWithCount = row?.max_connections;
      return Number(row?.n ?? 0);
    },
    // Issue 19: the limit came with the count (no round trip of its own) unless the count did
    // not run; the certificate is read from tedious' TLS socket (see TediousTls).
    async connectionLimit() {
      const withCount = limitWithCount;
      limitWithCount = undefined;
      return mssqlConnectionLimit(withCount ?? (await run(SQL.connectionLimit))[0]?.max_connections);
    },
    certificateExpiry: () => (pool ? tls.expiry() : undefined),
    readOnlyQuery: (text, call) => runReadOnlyQuery(checks, text, call),
    classifyError: classifyMssqlError,
    connected: () => pool !== undefined && broken === undefined,
    async close() {
      const p = pool ?? pending;
      pool = undefined;
      pending = undefined;
      await p?.close().catch(() => undefined);
    },
    destroy() {
      // tedious may not return from a stuck socket: close without waiting for it.
      const p = pool ?? pending;
      pool = undefined;
      pending = undefined;
      void p?.close().catch(() => undefined);
    },
  };

  async function heartbeatLag(): Promise<number | undefined> {
    try {
      const lag = (await run(SQL.heartbeatLag(settings.table)))[0]?.lag;
      return lag === null || lag === undefined ? undefined : Number(lag);
    } catch {
      return undefined;
    }
  }
}
