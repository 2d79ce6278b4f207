import mysql from "mysql2";
import type { Connection as PromiseConnection } from "mysql2/promise";
import { createRedactor, DbHealthError, type AdapterTarget, type DriverAdapter, type RoleInfo } from "@alfred/db-health-core";
import { mysqlSettings, type MysqlSettings, type SslAttempt } from "./mysql-options.js";
import { toMysqlError } from "./mysql-errors.js";
import { dialectOf, replicaLag, replicaStatusFallback, sessionLimits, type Dialect } from "./mysql-dialect.js";
import { SQL } from "./sql.js";

type Core = mysql.Connection;
type Row = Record<string, unknown>;

/** How often the prune statement runs: rows older than `pruneAfter` (≥ 1 min) go within a minute. */
const PRUNE_EVERY_MS = 60_000;

/**
 * The MySQL 8 / MariaDB adapter on mysql2: one connection per target, the dialect read from
 * `VERSION()`, server-side limits just under the phase deadlines (`max_statement_time` on
 * MariaDB, `max_execution_time` on MySQL, `innodb_lock_wait_timeout`/`lock_wait_timeout`), and on
 * a missed deadline a `KILL QUERY` from a second connection plus a destroyed socket.
 *
 * @example
 * ```ts
 * const adapter = createMysqlAdapter(target);
 * await adapter.connect(AbortSignal.timeout(5000));
 * ```
 */
export function createMysqlAdapter(target: AdapterTarget, version = "1"): DriverAdapter {
  const { config } = target;
  const settings: MysqlSettings = mysqlSettings(target.dsn, config, process.env, version);
  const extra = createRedactor(settings.envPassword ? [settings.envPassword] : []);
  const redact = (text: string): string => extra(target.redact(text));
  const fail = (err: unknown, phase: string): never => {
    throw toMysqlError(err, phase, redact);
  };
  let core: Core | undefined;
  let conn: PromiseConnection | undefined;
  let pending: Core | undefined;
  let broken: Error | undefined;
  let dialect: Dialect = "mysql";
  let hasTable = false;
  let replica = false;
  let createError: unknown;
  let statusQuery: string = SQL.replicaStatus;
  let lastPrune = 0;

  const live = (): PromiseConnection => {
    if (!conn) throw new DbHealthError("connect", "not connected", { driver: "mysql" });
    if (broken) throw toMysqlError(broken, "ping", redact);
    return conn;
  };
  let inFlight = 0;
  const track = async <T>(work: () => Promise<T>): Promise<T> => {
    inFlight++;
    const on = core;
    try {
      return await work();
    } catch (err) {
      // A fatal error (the server closed the connection mid-statement) leaves mysql2's connection
      // unusable: say so, so the next cycle reconnects instead of failing on a dead connection.
      if ((err as { fatal?: unknown } | null)?.fatal === true && core === on) broken = err as Error;
      throw err;
    } finally {
      inFlight--;
    }
  };
  const rows = (sql: string, values: Array<string | number | null> = []): Promise<Row[]> =>
    track(async () => (await live().execute(sql, values))[0] as Row[]);
  const text = (sql: string, values?: unknown[]): Promise<Row[]> => track(async () => (await live().query(sql, values))[0] as Row[]);

  const open = (ssl: SslAttempt): Promise<Core> =>
    new Promise((resolve, reject) => {
      const c = mysql.createConnection({ ...settings.connection, ...(ssl ? { ssl: ssl as mysql.SslOptions } : {}) });
      pending = c;
      // mysql2 emits 'end' when the server closes the socket (KILL CONNECTION, a stopped server)
      // and then 'error' (PROTOCOL_CONNECTION_LOST) for a connection lost between queries;
      // unhandled, the 'error' would crash the process. Only the connection we hold is reported
      // lost: one we end or destroy is no longer `core` by then.
      const lost = (err: Error): void => {
        if (core !== c) return;
        broken ??= err;
        target.connectionLost?.(toMysqlError(err, "connection", redact).message);
      };
      c.on("error", lost);
      c.on("end", () => lost(new Error("the server closed the connection")));
      c.connect((err) => {
        if (pending === c) pending = undefined;
        if (err) {
          c.destroy();
          reject(err);
        } else resolve(c);
      });
    });

  return {
    async connect(signal) {
      let last: unknown;
      let opened: Core | undefined;
      for (const ssl of settings.ssl) {
        try {
          opened = await open(ssl);
          break;
        } catch (err) {
          last = err;
          if (!(ssl && settings.ssl.length > 1 && (err as { code?: string }).code === "HANDSHAKE_NO_SSL_SUPPORT")) break;
        }
      }
      if (!opened) return fail(last, "connect");
      if (signal.aborted) {
        opened.destroy();
        throw new DbHealthError("timeout", "connect completed after its deadline", { driver: "mysql" });
      }
      core = opened;
      conn = opened.promise();
      broken = undefined;
      try {
        const [info] = await rows(SQL.setup, [settings.schema, settings.tableName]);
        dialect = dialectOf(info?.version);
        hasTable = Number(info?.has_table) > 0;
        const limits = sessionLimits(dialect, config);
        await text(limits.sql, limits.values);
        // Never created on a replica: the CREATE would be the replica's own transaction (an
        // errant GTID), and an account with READ ONLY ADMIN or SUPER gets past read_only. An
        // unexpected error here counts as no replica; role() reports it.
        if (!hasTable && config.createHealthTable) {
          replica = (await replicaStatus().catch(() => undefined)) !== undefined;
          await createTable();
        }
      } catch (err) {
        fail(err, "connect");
      }
    },
    async ping() {
      try {
        await text(SQL.ping);
      } catch (err) {
        fail(err, "ping");
      }
    },
    async role(): Promise<RoleInfo> {
      try {
        const [flags] = await text(dialect === "mariadb" ? SQL.readOnlyMariaDb : SQL.readOnlyMySql);
        const status = await replicaStatus();
        replica = status !== undefined;
        const readOnly = Number(flags?.read_only) === 1 || Number(flags?.super_read_only) === 1 || Number(flags?.tx_read_only) === 1;
        if (!replica) {
          if (!readOnly) return { role: "primary", readOnly: false };
          const which = Number(flags?.super_read_only) === 1 ? "super_read_only=ON" : Number(flags?.read_only) === 1 ? "read_only=ON" : "transaction_read_only=ON";
          return { role: "primary", readOnly: true, detail: which };
        }
        // Lag is the age of the freshest heartbeat row (rises whenever primary writes stop
        // arriving), else Seconds_Behind_Master/Source. Unlike PostgreSQL's replay timestamp,
        // Seconds_Behind_Master reads 0 while the SQL thread waits for events, even when the IO
        // thread is stuck, so it only stands in when no heartbeat row exists.
        const info: RoleInfo = { role: "replica", readOnly: true };
        const warnings: string[] = [];
        let heartbeat: number | undefined;
        if (hasTable) {
          try {
            heartbeat = await heartbeatLag();
          } catch (err) {
            warnings.push(`heartbeat lag unavailable: ${toMysqlError(err, "role", redact).message}`);
          }
        }
        const lag = replicaLag(heartbeat, status);
        if (lag !== undefined) info.lagSeconds = lag;
        const io = status?.Replica_IO_Running ?? status?.Slave_IO_Running;
        const sqlThread = status?.Replica_SQL_Running ?? status?.Slave_SQL_Running;
        if (io !== "Yes" || sqlThread !== "Yes") warnings.push(`replication is not running (IO thread: ${String(io)}, SQL thread: ${String(sqlThread)})`);
        if (warnings.length > 0) info.warnings = warnings;
        return info;
      } catch (err) {
        return fail(err, "role");
      }
    },
    async write(token) {
      try {
        try {
          await rows(SQL.write(settings.table), [config.probeId, token]);
        } catch (err) {
          // Dropped since we connected? Create it again when allowed, then write once more.
          if ((err as { errno?: number }).errno !== 1146) throw err;
          hasTable = false;
          if (!(await createTable())) throw err;
          await rows(SQL.write(settings.table), [config.probeId, token]);
        }
        hasTable = true;
        // Best effort, once a minute: a user without DELETE still passes the write check.
        if (Date.now() - lastPrune >= PRUNE_EVERY_MS) {
          lastPrune = Date.now();
          await rows(SQL.prune(settings.table), [config.probeId, Math.floor(config.pruneAfter / 1000)]).catch(() => undefined);
        }
      } catch (err) {
        if (createError !== undefined && (err as { errno?: number }).errno === 1146) {
          const why = toMysqlError(createError, "write", redact);
          throw new DbHealthError(why.kind, `health table ${settings.table} is missing and cannot be created: ${why.message}`, { driver: "mysql", cause: why });
        }
        fail(err, "write");
      }
    },
    async read() {
      try {
        const [row] = await rows(SQL.read(settings.table), [config.probeId]);
        return row?.token === undefined ? undefined : String(row.token);
      } catch (err) {
        // A replica of a primary no prober has written to yet has no table: reading the
        // catalog still proves the replica serves reads.
        if (replica && (err as { errno?: number }).errno === 1146) {
          try {
            await text(SQL.catalogRead);
            return undefined;
          } catch (inner) {
            return fail(inner, "read");
          }
        }
        return fail(err, "read");
      }
    },
    async connections() {
      try {
        const [row] = await text(SQL.connections);
        return Number(row?.Value ?? 0);
      } catch (err) {
        return fail(err, "connections");
      }
    },
    connected() {
      return core !== undefined && broken === undefined;
    },
    async close() {
      const c = core;
      core = undefined;
      conn = undefined;
      pending?.destroy();
      if (c) await endOrDestroy(c);
    },
    destroy() {
      // A missed deadline: stop the statement on the server, then drop the socket at once.
      const c = core ?? pending;
      core = undefined;
      conn = undefined;
      if (!c) return;
      // Only a statement in flight needs killing.
      if (inFlight > 0 && c.threadId) killQuery(settings, c.threadId);
      c.destroy();
    },
  };

  /** CREATE TABLE when missing, allowed and not on a replica; remembers why it failed. */
  async function createTable(): Promise<boolean> {
    createError = undefined;
    if (hasTable || !config.createHealthTable) return hasTable;
    if (replica) {
      createError = new Error("the node reports replica status (SHOW REPLICA STATUS), where the table is never created: create it on the primary");
      return false;
    }
    try {
      await text(SQL.create(settings.table));
      hasTable = true;
    } catch (err) {
      createError = err;
    }
    return hasTable;
  }

  async function replicaStatus(): Promise<Row | undefined> {
    try {
      return (await text(statusQuery))[0];
    } catch (err) {
      const next = replicaStatusFallback(statusQuery, (err as { errno?: number }).errno);
      if (next === "slave-spelling") {
        statusQuery = SQL.slaveStatus;
        return replicaStatus();
      }
      if (next === "not-allowed") return undefined;
      throw err;
    }
  }

  async function heartbeatLag(): Promise<number | undefined> {
    const [row] = await rows(SQL.heartbeatLag(settings.table));
    return row?.lag === null || row?.lag === undefined ? undefined : Number(row.lag);
  }
}

// A graceful end waits for the server; a hung server must not hang close(), so it is bounded.
function endOrDestroy(c: Core, timeoutMs = 1000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      c.destroy();
      resolve();
    }, timeoutMs);
    c.end(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

// Best effort, bounded: a second connection asks the server to stop our statement.
function killQuery(settings: MysqlSettings, threadId: number): void {
  const killer = mysql.createConnection({ ...settings.connection, connectTimeout: 1000 });
  const timer = setTimeout(() => killer.destroy(), 1500);
  killer.on("error", () => undefined);
  killer.query(SQL.killQuery, [threadId], () => {
    clearTimeout(timer);
    killer.destroy();
  });
}
