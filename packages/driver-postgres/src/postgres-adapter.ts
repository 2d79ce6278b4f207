import pg from "pg";
import { DbHealthError, peerCertificateExpiry, socketPeer, type DialectTarget, type HealthTableDialect, type RoleInfo } from "@alfred/db-health-core";
import { sendCancel } from "./cancel.js";
import { endOrKill, kill, shouldFallBack, type RawClient } from "./pg-client.js";
import { postgresSettings, type PostgresSettings, type SslAttempt } from "./postgres-options.js";
import { classifyPostgresError } from "./postgres-errors.js";
import { runReadOnlyQuery, type CheckConnection } from "./read-only-query.js";
import { SQL } from "./sql.js";

/**
 * The PostgreSQL dialect on pg: one `Client` per target (no pool), server-side
 * `statement_timeout`/`lock_timeout` from core's `serverLimits`, and on a missed deadline a
 * protocol CancelRequest plus a destroyed socket, so a hung or locked server never collects
 * backends from us. Core runs the health-table protocol around it.
 *
 * @example
 * ```ts
 * const adapter = healthTableAdapter(target, (t) => createPostgresDialect(t, version));
 * ```
 */
export function createPostgresDialect(target: DialectTarget, version = "1"): HealthTableDialect {
  const settings: PostgresSettings = postgresSettings(target.dsn, target.config, process.env, version);
  let client: RawClient | undefined;
  // A client still connecting, so destroy() can reach it before connect() returns.
  let pending: RawClient | undefined;
  let broken: Error | undefined;

  const live = (): RawClient => {
    if (!client) throw new DbHealthError("connect", "not connected", { driver: "postgres" });
    if (broken) throw broken;
    return client;
  };
  // Unnamed statements only: named ones break behind PgBouncer in transaction pooling mode.
  let inFlight = 0;
  /** The connection limit read by the last connections() (issue 19), taken by connectionLimit(). */
  let limitWithCount: number | undefined;
  const query = async <R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]> => {
    const c = live();
    inFlight++;
    try {
      return (await (values ? c.query<R>(text, values) : c.query<R>(text))).rows;
    } finally {
      inFlight--;
    }
  };

  // Custom checks (read-only-query.ts): their queries count as in flight like the others.
  const checks: CheckConnection = {
    query: async (config) => {
      const c = live();
      inFlight++;
      try {
        return await c.query<unknown[]>(config as pg.QueryArrayConfig);
      } finally {
        inFlight--;
      }
    },
    submit: async (q) => {
      const c = live();
      inFlight++;
      try {
        c.query(q);
        return await q.done;
      } finally {
        inFlight--;
      }
    },
    discard: (err) => {
      if (client) broken ??= err;
    },
  };

  const open = async (ssl: SslAttempt): Promise<RawClient> => {
    const c = new pg.Client({ ...settings.client, ssl }) as RawClient;
    // pg emits 'error' when the server goes away between queries (a terminated backend, a
    // stopped server) and 'end' once the socket closed; without an 'error' listener that would
    // crash the process. Only the connection we hold is reported lost.
    c.on("error", (err) => {
      if (client !== c) return;
      broken = err;
      target.lost(err);
    });
    c.on("end", () => {
      if (client !== c) return;
      broken ??= new Error("the server closed the connection");
      target.lost(broken);
    });
    pending = c;
    try {
      await c.connect();
      return c;
    } catch (err) {
      kill(c);
      throw err;
    } finally {
      if (pending === c) pending = undefined;
    }
  };

  return {
    driver: "postgres",
    table: settings.table,
    secrets: settings.envPassword ? [settings.envPassword] : [],
    async connect({ signal }) {
      let last: unknown;
      for (const ssl of settings.ssl) {
        if (signal.aborted) break;
        try {
          client = await open(ssl);
          broken = undefined;
          return;
        } catch (err) {
          last = err;
          if (!shouldFallBack(err, ssl, settings.ssl)) break;
        }
      }
      throw last ?? new DbHealthError("timeout", "connect aborted", { driver: "postgres" });
    },
    ping: async () => void (await query(SQL.ping)),
    async role(_call, { explain }): Promise<RoleInfo> {
      type Row = { replica: boolean; has_table: boolean; default_read_only: string; read_only: string; replay_lag: number | null };
      const r = (await query<Row>(SQL.role, [settings.table]))[0]!;
      if (!r.replica) {
        if (r.default_read_only === "on") return { role: "primary", readOnly: true, detail: "default_transaction_read_only=on" };
        if (r.read_only === "on") return { role: "primary", readOnly: true, detail: "transaction_read_only=on" };
        return { role: "primary", readOnly: false };
      }
      // Lag is the smaller of two ages: the last replayed commit (grows on an idle primary
      // although the replica is caught up) and the freshest heartbeat a primary prober wrote
      // (at most one probe interval old while replication works). Both grow when it stops.
      const info: RoleInfo = { role: "replica", readOnly: true };
      let heartbeat: number | null | undefined;
      // Asked each time: the table can appear on a replica after we connected (replicated).
      if (r.has_table) {
        try {
          heartbeat = (await query<{ lag: number | null }>(SQL.heartbeatLag(settings.table)))[0]?.lag;
        } catch (err) {
          // The role is known (pg_is_in_recovery() answered): report, don't fail the phase.
          info.warnings = [`heartbeat lag unavailable: ${explain(err)}`];
        }
      }
      const ages = [heartbeat, r.replay_lag].filter((x): x is number => typeof x === "number");
      if (ages.length > 0) info.lagSeconds = Math.max(0, Math.min(...ages));
      return info;
    },
    async inspect() {
      const [row] = await query<{ has_table: boolean; in_recovery: boolean }>(SQL.setup, [settings.table]);
      return { exists: row?.has_table === true, replica: row?.in_recovery === true };
    },
    createTable: async () => void (await query(SQL.create(settings.table))),
    upsert: async (probeId, token) => void (await query(SQL.write(settings.table), [probeId, token])),
    select: async (probeId) => (await query<{ token: string }>(SQL.read(settings.table), [probeId]))[0]?.token,
    prune: async (probeId, seconds) => void (await query(SQL.prune(settings.table), [probeId, seconds])),
    catalogRead: async () => void (await query(SQL.catalogRead)),
    async connections() {
      const [row] = await query<{ n: number; max: number | null }>(SQL.connections);
      limitWithCount = row?.max ?? undefined;
      return row?.n ?? 0;
    },
    // Issue 19: the limit came with the count (no round trip of its own) unless the count did not
    // run; the certificate is the one the TLS handshake presented (pg keeps the TLSSocket it
    // upgraded to on client.connection.stream).
    async connectionLimit() {
      const withCount = limitWithCount;
      limitWithCount = undefined;
      return withCount ?? Number((await query<{ max: number }>(SQL.connectionLimit))[0]?.max);
    },
    certificateExpiry: () => peerCertificateExpiry(client?.connection?.stream),
    readOnlyQuery: (sql, call) => runReadOnlyQuery(checks, sql, call),
    classifyError: classifyPostgresError,
    connected: () => client !== undefined && broken === undefined,
    // The host pg was given (a name is resolved again before each reuse) and where it connected.
    peer: () => socketPeer(client?.host, client?.connection?.stream),
    async close() {
      const c = client;
      client = undefined;
      if (pending) kill(pending);
      if (c) await endOrKill(c);
    },
    destroy() {
      // A missed deadline: stop the statement on the server, then drop the socket at once.
      const c = client ?? pending;
      client = undefined;
      if (!c) return;
      // Only a statement in flight needs cancelling; send it where this socket is connected
      // (a DNS name could resolve to another node).
      const stream = c.connection?.stream;
      if (inFlight > 0 && c.processID != null && c.secretKey != null) {
        const to = stream?.remoteAddress && stream.remotePort ? { host: stream.remoteAddress, port: stream.remotePort } : settings.cancel;
        void sendCancel(to, c.processID, c.secretKey);
      }
      kill(c);
    },
  };
}
