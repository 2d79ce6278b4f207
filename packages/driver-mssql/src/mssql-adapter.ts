import { DbHealthError, type AdapterTarget, type DriverAdapter, type RoleInfo } from "@alfred/db-health-core";
import type * as Mssql from "mssql";
import { mssqlSettings, type MssqlSettings } from "./mssql-options.js";
import { toMssqlError } from "./mssql-errors.js";
import { SQL } from "./sql.js";
import { checkSpeaksTds, type TdsEncryption } from "./tds-precheck.js";

type MssqlModule = typeof Mssql;
type Pool = Mssql.ConnectionPool;
type Row = Record<string, unknown>;
/** The tedious connection mssql hands to `beforeConnect`. */
type TediousConnection = Parameters<NonNullable<Mssql.config["beforeConnect"]>>[0];

/** How often the prune statement runs: rows older than `pruneAfter` (≥ 1 min) go within a minute. */
const PRUNE_EVERY_MS = 60_000;

// mssql (with tedious) takes ~0.2–0.5 s to load: only a target that needs it pays, on connect.
let loading: Promise<MssqlModule> | undefined;
function loadMssql(): Promise<MssqlModule> {
  loading ??= import("mssql").then((m) => ((m as unknown as { default?: MssqlModule }).default ?? m) as MssqlModule);
  return loading;
}

/**
 * The SQL Server adapter on mssql (tedious): a pool of exactly one connection per target, a
 * request timeout just under the deadlines (tedious cancels the batch with an attention),
 * `SET LOCK_TIMEOUT` before the write, and on a missed deadline the pool closed without waiting
 * for tedious, so a stuck server never holds the probe.
 *
 * @example
 * ```ts
 * const adapter = createMssqlAdapter(target);
 * await adapter.connect(AbortSignal.timeout(5000));
 * ```
 */
export function createMssqlAdapter(target: AdapterTarget, version = "1"): DriverAdapter {
  const { config } = target;
  const settings: MssqlSettings = mssqlSettings(target.dsn, config, version);
  const redact = target.redact;
  const fail = (err: unknown, phase: string): never => {
    throw toMssqlError(err, phase, redact);
  };
  let sql: MssqlModule | undefined;
  let pool: Pool | undefined;
  let pending: Pool | undefined;
  let broken: Error | undefined;
  let hasTable = false;
  let createError: unknown;
  let lastPrune = 0;

  const live = (): { pool: Pool; sql: MssqlModule } => {
    if (!pool || !sql) throw new DbHealthError("connect", "not connected", { driver: "mssql" });
    if (broken) throw toMssqlError(broken, "ping", redact);
    return { pool, sql };
  };
  const run = async (text: string, inputs: Record<string, string | number> = {}): Promise<Row[]> => {
    const { pool: p, sql: m } = live();
    const request = p.request();
    for (const [name, value] of Object.entries(inputs)) {
      request.input(name, typeof value === "number" ? m.Int : m.NVarChar(256), value);
    }
    return (await request.query(text)).recordset ?? [];
  };
  const createTable = async (): Promise<boolean> => {
    createError = undefined;
    if (hasTable || !config.createHealthTable) return hasTable;
    try {
      await run(SQL.create(settings.table));
      hasTable = true;
    } catch (err) {
      createError = err;
    }
    return hasTable;
  };

  return {
    async connect(signal) {
      // Only a known port can be checked (a named instance's port comes from SQL Browser), and
      // TDS 8 (encrypt=strict) starts with TLS instead of PRELOGIN.
      if (settings.pool.port !== undefined && settings.pool.options?.encrypt !== "strict") {
        const encrypt = settings.pool.options?.encrypt === true;
        let encryption: TdsEncryption | undefined;
        try {
          ({ encryption } = await checkSpeaksTds(settings.pool.server, settings.pool.port, encrypt, signal));
        } catch (err) {
          return fail(err, "connect");
        }
        // tedious 18 with encrypt=true starts TLS only when the server answers ON or REQ; to any
        // other answer it sends the login without TLS, the password only obfuscated. Refuse here.
        if (encrypt && encryption !== "on" && encryption !== "required") {
          const said = encryption === "not-supported" ? "offers no encryption" : `answered encryption ${encryption ?? "(none)"}`;
          return fail(
            new DbHealthError("connect", `${settings.pool.server}:${settings.pool.port} ${said} and encrypt=true: the login is not sent in the clear (encrypt=false allows it)`, { driver: "mssql" }),
            "connect",
          );
        }
      }
      sql = await loadMssql();
      // mssql's pool does not tell when its tedious connection dies (a socket error only marks
      // it for replacement), so each tedious connection it opens is watched here: tedious emits
      // 'error' ("Connection lost - socket hang up") and then 'end'. The pool's own first,
      // test connection ends before `pool` is set, and ours that we close after it is unset.
      const lost = (err: Error): void => {
        if (pool !== p) return;
        broken ??= err;
        target.connectionLost?.(toMssqlError(err, "connection", redact).message);
      };
      const beforeConnect = (conn: TediousConnection): void => {
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
        return fail(err, "connect");
      } finally {
        if (pending === p) pending = undefined;
      }
      if (signal.aborted) {
        void p.close().catch(() => undefined);
        throw new DbHealthError("timeout", "connect completed after its deadline", { driver: "mssql" });
      }
      pool = p;
      broken = undefined;
      try {
        hasTable = Number((await run(SQL.tableExists, { table: settings.objectName }))[0]?.has_table) === 1;
        await createTable();
      } catch (err) {
        fail(err, "connect");
      }
    },
    async ping() {
      try {
        await run(SQL.ping);
      } catch (err) {
        fail(err, "ping");
      }
    },
    async role(): Promise<RoleInfo> {
      try {
        const updateability = String((await run(SQL.updateability))[0]?.updateability ?? "");
        let ag: Row | undefined;
        try {
          ag = (await run(SQL.agRole))[0];
        } catch {
          // No VIEW SERVER STATE, or a version without the view: Updateability alone decides.
        }
        if (ag && Number(ag.is_primary_replica) === 0) {
          const info: RoleInfo = { role: "replica", readOnly: true, detail: "Availability Group secondary" };
          const heartbeat = hasTable ? await heartbeatLag() : undefined;
          const lag = heartbeat ?? (ag.secondary_lag_seconds == null ? undefined : Number(ag.secondary_lag_seconds));
          if (lag !== undefined && Number.isFinite(lag)) info.lagSeconds = Math.max(0, lag);
          return info;
        }
        if (updateability === "READ_ONLY") return { role: "primary", readOnly: true, detail: "database Updateability is READ_ONLY" };
        return { role: "primary", readOnly: false };
      } catch (err) {
        return fail(err, "role");
      }
    },
    async write(token) {
      try {
        const batch = `${SQL.lockTimeout(0.8 * config.writeTimeout)};\n${SQL.write(settings.table)}`;
        try {
          await run(batch, { probe_id: config.probeId, token });
        } catch (err) {
          // 2627: another prober with this probe id inserted the row first; it exists now.
          // 208: invalid object name. Dropped since we connected? Create again when allowed.
          if (errorNumber(err) !== 2627 && (errorNumber(err) !== 208 || !(await createTable()))) throw err;
          await run(batch, { probe_id: config.probeId, token });
        }
        if (Date.now() - lastPrune >= PRUNE_EVERY_MS) {
          lastPrune = Date.now();
          await run(SQL.prune(settings.table), { probe_id: config.probeId, age: Math.floor(config.pruneAfter / 1000) }).catch(() => undefined);
        }
      } catch (err) {
        if (createError !== undefined && errorNumber(err) === 208) {
          const why = toMssqlError(createError, "write", redact);
          throw new DbHealthError(why.kind, `health table ${settings.table} is missing and cannot be created: ${why.message}`, { driver: "mssql", cause: why });
        }
        fail(err, "write");
      }
    },
    async read() {
      try {
        const [row] = await run(SQL.read(settings.table), { probe_id: config.probeId });
        return row?.token === undefined ? undefined : String(row.token);
      } catch (err) {
        return fail(err, "read");
      }
    },
    async connections() {
      try {
        return Number((await run(SQL.connections))[0]?.n ?? 0);
      } catch (err) {
        return fail(err, "connections");
      }
    },
    connected() {
      return pool !== undefined && broken === undefined;
    },
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

function errorNumber(err: unknown): number | undefined {
  const e = err as { number?: unknown; originalError?: { info?: { number?: unknown } } } | undefined;
  const n = e?.number ?? e?.originalError?.info?.number;
  return typeof n === "number" ? n : undefined;
}
