import type mysql from "mysql2";
import type { Connection as PromiseConnection } from "mysql2/promise";
import { performance } from "node:perf_hooks";
import { DbHealthError, peerCertificateExpiry, socketPeer, type DialectTarget, type HealthTableDialect } from "@alfred/db-health-core";
import { endOrDestroy, killQuery, openConnection } from "./mysql-connection.js";
import { mysqlSettings, type MysqlSettings } from "./mysql-options.js";
import { classifyMysqlError } from "./mysql-errors.js";
import { dialectOf, primaryRole, replicaRole, replicaStatusFallback, sessionLimits, type Dialect } from "./mysql-dialect.js";
import { SQL } from "./sql.js";
import { runReadOnlyQuery, type CheckConnection } from "./read-only-query.js";

type Row = Record<string, unknown>;

/**
 * How long a connection limit read is reused (issue 19). `max_connections` can change at run time
 * (SET GLOBAL) but is no per-cycle figure: it is read at connect, with the setup query, and
 * then again at most this often, never with a round trip in every cycle.
 */
export const LIMIT_REFRESH_MS = 5 * 60_000;

/**
 * The MySQL 8 / MariaDB dialect on mysql2: one connection per target, the server family read
 * from `VERSION()`, server-side limits from core's `serverLimits` (`max_statement_time` on
 * MariaDB, `max_execution_time` on MySQL, `innodb_lock_wait_timeout`/`lock_wait_timeout`), and on
 * a missed deadline a `KILL QUERY` from a second connection plus a destroyed socket. A node that
 * reports replica status never gets the table created (`isReplica`). Core runs the health-table
 * protocol around it.
 *
 * @example
 * ```ts
 * const adapter = healthTableAdapter(target, (t) => createMysqlDialect(t, version));
 * ```
 */
export function createMysqlDialect(target: DialectTarget, version = "1"): HealthTableDialect {
  const settings: MysqlSettings = mysqlSettings(target.dsn, target.config, process.env, version);
  let core: mysql.Connection | undefined;
  let conn: PromiseConnection | undefined;
  let pending: mysql.Connection | undefined;
  let broken: Error | undefined;
  let family: Dialect = "mysql";
  let hasTable = false;
  let statusQuery: string = SQL.replicaStatus;
  /** The last connection limit read on this connection, and when (issue 19). */
  let limit: { value: number; at: number } | undefined;

  const live = (): PromiseConnection => {
    if (!conn) throw new DbHealthError("connect", "not connected", { driver: "mysql" });
    if (broken) throw broken;
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
  const rows = (sql: string, values: Array<string | number | null> = []): Promise<Row[]> => track(async () => (await live().execute(sql, values))[0] as Row[]);
  const text = (sql: string, values?: unknown[]): Promise<Row[]> => track(async () => (await live().query(sql, values))[0] as Row[]);
  // Only the connection we hold is reported lost: one we end or destroy is no longer `core`.
  const watch = (c: mysql.Connection): void => {
    const lost = (err: Error): void => {
      if (core !== c) return;
      broken ??= err;
      target.lost(err);
    };
    c.on("error", lost);
    c.on("end", () => lost(new Error("the server closed the connection")));
  };
  const replicaStatus = async (): Promise<Row | undefined> => {
    try {
      return (await text(statusQuery))[0];
    } catch (err) {
      const next = replicaStatusFallback(statusQuery, (err as { errno?: number }).errno);
      if (next === "not-allowed") return undefined;
      if (next !== "slave-spelling") throw err;
      statusQuery = SQL.slaveStatus;
      return replicaStatus();
    }
  };

  // Custom checks (read-only-query.ts): prepared by the server first, counted in flight like every statement.
  const checks: CheckConnection = {
    prepare: (sql) =>
      track(
        () =>
          new Promise<number>((resolve, reject) => {
            live();
            core!.prepare(sql, (err, statement) => (err ? reject(err) : resolve((statement as { columns?: unknown[] }).columns?.length ?? 0)));
          }),
      ),
    execute: (sql) => track(async () => (await live().execute({ sql, rowsAsArray: true }, []))[0] as unknown[][]),
    text: (sql, values) => text(sql, values),
    discard: (err) => {
      if (core) broken ??= err;
    },
  };

  return {
    driver: "mysql",
    table: settings.table,
    secrets: settings.envPassword ? [settings.envPassword] : [],
    async connect({ signal }) {
      core = await openConnection(settings, (c) => (pending = c), watch);
      conn = core.promise();
      broken = undefined;
      if (signal.aborted) return; // core closes a connection that completed after its deadline
      const [info] = await rows(SQL.setup, [settings.schema, settings.tableName]);
      family = dialectOf(info?.version);
      hasTable = Number(info?.has_table) > 0;
      limit = Number(info?.max_connections) > 0 ? { value: Number(info?.max_connections), at: performance.now() } : undefined;
      const limits = sessionLimits(family, target.config);
      await text(limits.sql, limits.values);
    },
    ping: async () => void (await text(SQL.ping)),
    async role(_call, { tableExists, explain }) {
      const [flags] = await text(family === "mariadb" ? SQL.readOnlyMariaDb : SQL.readOnlyMySql);
      const status = await replicaStatus();
      if (status === undefined) return primaryRole(flags);
      // Lag is the age of the freshest heartbeat row (rises whenever primary writes stop
      // arriving), else Seconds_Behind_Master/Source, which reads 0 while the SQL thread waits
      // for events even when the IO thread is stuck, so it only stands in when no row exists.
      const warnings: string[] = [];
      let heartbeat: number | undefined;
      if (tableExists) {
        try {
          const lag = (await rows(SQL.heartbeatLag(settings.table)))[0]?.lag;
          heartbeat = lag === null || lag === undefined ? undefined : Number(lag);
        } catch (err) {
          warnings.push(`heartbeat lag unavailable: ${explain(err)}`);
        }
      }
      return replicaRole(status, heartbeat, warnings);
    },
    // The setup query at connect already said whether the table exists.
    inspect: async () => ({ exists: hasTable }),
    // Never created on a replica: the CREATE would be the replica's own transaction (an errant
    // GTID), and an account with READ ONLY ADMIN or SUPER gets past read_only.
    isReplica: async () => (await replicaStatus()) !== undefined,
    createTable: async () => void (await text(SQL.create(settings.table))),
    upsert: async (probeId, token) => void (await rows(SQL.write(settings.table), [probeId, token])),
    select: async (probeId) => {
      const [row] = await rows(SQL.read(settings.table), [probeId]);
      return row?.token === undefined ? undefined : String(row.token);
    },
    prune: async (probeId, seconds) => void (await rows(SQL.prune(settings.table), [probeId, seconds])),
    catalogRead: async () => void (await text(SQL.catalogRead)),
    connections: async () => Number((await text(SQL.connections))[0]?.Value ?? 0),
    // Issue 19: the limit read at connect, refreshed at most every LIMIT_REFRESH_MS; the
    // certificate from the TLSSocket mysql2 put on connection.stream when it upgraded to TLS.
    async connectionLimit() {
      if (!limit || performance.now() - limit.at >= LIMIT_REFRESH_MS) {
        const [row] = await text(SQL.connectionLimit);
        limit = { value: Number(row?.max_connections), at: performance.now() };
      }
      return limit.value;
    },
    certificateExpiry: () => peerCertificateExpiry((core as { stream?: unknown } | undefined)?.stream),
    readOnlyQuery: (sql, call) => runReadOnlyQuery(checks, family, sessionLimits(family, target.config), sql, call),
    classifyError: classifyMysqlError,
    connected: () => core !== undefined && broken === undefined,
    // The host mysql2 was given (a name is resolved again before each reuse) and where it connected.
    peer: () => (core ? socketPeer(settings.connection.host, (core as { stream?: unknown }).stream) : undefined),
    async close() {
      const c = core;
      core = undefined;
      conn = undefined;
      pending?.destroy();
      if (c) await endOrDestroy(c);
    },
    destroy() {
      // A missed deadline: stop the statement on the server (only one in flight needs it), then drop the socket at once.
      const c = core ?? pending;
      core = undefined;
      conn = undefined;
      if (!c) return;
      if (inFlight > 0) killQuery(settings, c);
      c.destroy();
    },
  };
}
