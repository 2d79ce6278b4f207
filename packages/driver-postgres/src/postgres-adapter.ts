import pg from "pg";
import { createRedactor, DbHealthError, type AdapterTarget, type DriverAdapter, type RoleInfo } from "@alfred/db-health-core";
import { sendCancel } from "./cancel.js";
import { postgresSettings, type PostgresSettings, type SslAttempt } from "./postgres-options.js";
import { toPostgresError } from "./postgres-errors.js";
import { SQL } from "./sql.js";

/** How often the prune statement runs: rows older than `pruneAfter` (≥ 1 min) go within a minute. */
const PRUNE_EVERY_MS = 60_000;

/** The pieces of pg's Client this adapter reaches into beyond its typed API. */
type RawClient = pg.Client & { processID?: number | null; secretKey?: number | Buffer | null; connection?: { stream?: { destroy(): void } } };

/**
 * The PostgreSQL adapter on pg: one `Client` per target (no pool), server-side
 * `statement_timeout`/`lock_timeout` just under the phase deadlines, and on a missed deadline a
 * protocol CancelRequest plus a destroyed socket, so a hung or locked server never collects
 * backends from us.
 *
 * @example
 * ```ts
 * const adapter = createPostgresAdapter(target);
 * await adapter.connect(AbortSignal.timeout(5000));
 * ```
 */
export function createPostgresAdapter(target: AdapterTarget, version = "1"): DriverAdapter {
  const { config } = target;
  const settings: PostgresSettings = postgresSettings(target.dsn, config, process.env, version);
  const extra = createRedactor(settings.envPassword ? [settings.envPassword] : []);
  const redact = (text: string): string => extra(target.redact(text));
  const fail = (err: unknown, phase: string): never => {
    throw toPostgresError(err, phase, redact);
  };
  let client: RawClient | undefined;
  // A client still connecting, so destroy() can reach it before connect() returns.
  let pending: RawClient | undefined;
  let broken: Error | undefined;
  let hasTable = false;
  let replica = false;
  // Why CREATE TABLE failed at connect, so a later "relation does not exist" says the real cause.
  let createError: unknown;
  let lastPrune = 0;

  const live = (): RawClient => {
    if (!client) throw new DbHealthError("connect", "not connected", { driver: "postgres" });
    if (broken) throw toPostgresError(broken, "ping", redact);
    return client;
  };
  // Unnamed statements only: named ones break behind PgBouncer in transaction pooling mode.
  let inFlight = 0;
  const query = async <R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> => {
    const c = live();
    inFlight++;
    try {
      return await (values ? c.query<R>(text, values) : c.query<R>(text));
    } finally {
      inFlight--;
    }
  };

  const open = async (ssl: SslAttempt): Promise<RawClient> => {
    const c = new pg.Client({ ...settings.client, ssl }) as RawClient;
    // pg emits 'error' when the server goes away between queries (a terminated backend, a
    // stopped server: "terminating connection due to administrator command", then "Connection
    // terminated unexpectedly") and 'end' once the socket closed; without an 'error' listener
    // that would crash the process. Only the connection we hold is reported lost: ours that we
    // close or destroy is no longer `client` by then.
    c.on("error", (err) => {
      if (client !== c) return;
      broken = err;
      target.connectionLost?.(toPostgresError(err, "connection", redact).message);
    });
    c.on("end", () => {
      if (client !== c) return;
      broken ??= new Error("the server closed the connection");
      target.connectionLost?.(toPostgresError(broken, "connection", redact).message);
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

  /** CREATE TABLE when missing, allowed and on a primary; remembers why it failed. */
  const createTable = async (): Promise<boolean> => {
    createError = undefined;
    if (hasTable || !config.createHealthTable || replica) return hasTable;
    try {
      await query(SQL.create(settings.table));
      hasTable = true;
    } catch (err) {
      createError = err;
    }
    return hasTable;
  };
  /** Best effort, once a minute: a role without DELETE still passes the write check. */
  const prune = async (): Promise<void> => {
    if (Date.now() - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = Date.now();
    await query(SQL.prune(settings.table), [config.probeId, Math.floor(config.pruneAfter / 1000)]).catch(() => undefined);
  };

  return {
    async connect(signal) {
      let last: unknown;
      for (const ssl of settings.ssl) {
        if (signal.aborted) break;
        try {
          const c = await open(ssl);
          if (signal.aborted) {
            kill(c);
            throw new DbHealthError("timeout", "connect completed after its deadline", { driver: "postgres" });
          }
          client = c;
          broken = undefined;
          break;
        } catch (err) {
          last = err;
          if (!shouldFallBack(err, ssl, settings.ssl)) break;
        }
      }
      if (!client) return fail(last, "connect");
      try {
        const { rows } = await query<{ has_table: boolean; in_recovery: boolean }>(SQL.setup, [settings.table]);
        hasTable = rows[0]?.has_table === true;
        replica = rows[0]?.in_recovery === true;
        await createTable();
      } catch (err) {
        fail(err, "connect");
      }
    },
    async ping() {
      try {
        await query(SQL.ping);
      } catch (err) {
        fail(err, "ping");
      }
    },
    async role(): Promise<RoleInfo> {
      try {
        const { rows } = await query<{ replica: boolean; has_table: boolean; default_read_only: string; read_only: string; replay_lag: number | null }>(
          SQL.role,
          [settings.table],
        );
        const r = rows[0]!;
        replica = r.replica;
        hasTable = r.has_table;
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
        if (hasTable) {
          try {
            heartbeat = (await query<{ lag: number | null }>(SQL.heartbeatLag(settings.table))).rows[0]?.lag;
          } catch (err) {
            // The role is known (pg_is_in_recovery() answered): report, don't fail the phase.
            info.warnings = [`heartbeat lag unavailable: ${toPostgresError(err, "role", redact).message}`];
          }
        }
        const ages = [heartbeat, r.replay_lag].filter((x): x is number => typeof x === "number");
        if (ages.length > 0) info.lagSeconds = Math.max(0, Math.min(...ages));
        return info;
      } catch (err) {
        return fail(err, "role");
      }
    },
    async write(token) {
      try {
        try {
          await query(SQL.write(settings.table), [config.probeId, token]);
        } catch (err) {
          // Dropped since we connected? Create it again when allowed, then write once more.
          if ((err as { code?: string }).code !== "42P01" || !(await createTable())) throw err;
          await query(SQL.write(settings.table), [config.probeId, token]);
        }
        hasTable = true;
        await prune();
      } catch (err) {
        if (createError !== undefined && (err as { code?: string }).code === "42P01") {
          const why = toPostgresError(createError, "write", redact);
          throw new DbHealthError(why.kind, `health table ${settings.table} is missing and cannot be created: ${why.message}`, {
            driver: "postgres",
            cause: why,
          });
        }
        fail(err, "write");
      }
    },
    async read() {
      try {
        const { rows } = await query<{ token: string }>(SQL.read(settings.table), [config.probeId]);
        return rows[0]?.token;
      } catch (err) {
        // A replica of a primary no prober has written to yet has no table: reading the
        // catalog still proves the replica serves reads, and the lag came from replay.
        if (replica && (err as { code?: string }).code === "42P01") {
          try {
            await query(SQL.catalogRead);
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
        const { rows } = await query<{ n: number }>(SQL.connections);
        return rows[0]?.n ?? 0;
      } catch (err) {
        return fail(err, "connections");
      }
    },
    connected() {
      return client !== undefined && broken === undefined;
    },
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
      const stream = c.connection?.stream as { remoteAddress?: string; remotePort?: number } | undefined;
      if (inFlight > 0 && c.processID != null && c.secretKey != null) {
        const to = stream?.remoteAddress && stream.remotePort ? { host: stream.remoteAddress, port: stream.remotePort } : settings.cancel;
        void sendCancel(to, c.processID, c.secretKey);
      }
      kill(c);
    },
  };
}

// A graceful end waits for the server; a hung server must not hang close(), so it is bounded.
async function endOrKill(c: RawClient, timeoutMs = 1000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    c.end().catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
  ]);
  clearTimeout(timer);
  kill(c);
}

function kill(c: RawClient): void {
  try {
    c.connection?.stream?.destroy();
  } catch {
    // already gone
  }
}

// sslmode=prefer/allow: retry the other way only when the server refused this way.
function shouldFallBack(err: unknown, tried: SslAttempt, attempts: readonly SslAttempt[]): boolean {
  if (attempts.length < 2 || attempts[attempts.length - 1] === tried) return false;
  const message = err instanceof Error ? err.message : "";
  return tried ? /does not support SSL/i.test(message) : /no encryption|SSL off|hostssl/i.test(message) || (err as { code?: string }).code === "28000";
}
