import pg from "pg";
import { createRedactor, DbHealthError, type AdapterTarget, type DriverAdapter, type RoleInfo } from "@alfred/db-health-core";
import { sendCancel } from "./cancel.js";
import { postgresSettings, type PostgresSettings, type SslAttempt } from "./postgres-options.js";
import { toPostgresError } from "./postgres-errors.js";
import { SQL } from "./sql.js";

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

  const live = (): RawClient => {
    if (!client) throw new DbHealthError("connect", "not connected", { driver: "postgres" });
    if (broken) throw toPostgresError(broken, "ping", redact);
    return client;
  };
  const query = async <R extends pg.QueryResultRow>(name: string, text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> =>
    live().query<R>({ name, text, values });

  const open = async (ssl: SslAttempt): Promise<RawClient> => {
    const c = new pg.Client({ ...settings.client, ssl }) as RawClient;
    // pg emits 'error' when the server goes away between queries; without a listener that
    // would crash the process. The next phase reports it.
    c.on("error", (err) => {
      if (client === c) broken = err;
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
    async connect(signal) {
      let last: unknown;
      for (const ssl of settings.ssl) {
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
        const { rows } = await query<{ has_table: boolean; in_recovery: boolean }>("dbh_setup", SQL.setup, [settings.table]);
        hasTable = rows[0]?.has_table === true;
        createError = undefined;
        if (!hasTable && config.createHealthTable && rows[0]?.in_recovery === false) {
          // Not allowed to create it (no CREATE on the schema)? The write phase reports why.
          await live().query(SQL.create(settings.table)).then(
            () => (hasTable = true),
            (err: unknown) => (createError = err),
          );
        }
      } catch (err) {
        fail(err, "connect");
      }
    },
    async ping() {
      try {
        await live().query(SQL.ping);
      } catch (err) {
        fail(err, "ping");
      }
    },
    async role(): Promise<RoleInfo> {
      try {
        const { rows } = await query<{ replica: boolean; has_table: boolean; default_read_only: string; read_only: string; replay_lag: number | null }>(
          "dbh_role",
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
        const heartbeat = hasTable ? (await query<{ lag: number | null }>("dbh_heartbeat_lag", SQL.heartbeatLag(settings.table))).rows[0]?.lag : null;
        const lag = heartbeat ?? r.replay_lag;
        const info: RoleInfo = { role: "replica", readOnly: true, detail: heartbeat != null ? "lag from the primary's heartbeat row" : "lag from pg_last_xact_replay_timestamp()" };
        if (lag != null) info.lagSeconds = Math.max(0, lag);
        return info;
      } catch (err) {
        return fail(err, "role");
      }
    },
    async write(token) {
      try {
        await query("dbh_write", SQL.write(settings.table), [config.probeId, token, Math.floor(config.pruneAfter / 1000)]);
        hasTable = true;
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
        const { rows } = await query<{ token: string }>("dbh_read", SQL.read(settings.table), [config.probeId]);
        return rows[0]?.token;
      } catch (err) {
        // A replica of a primary no prober has written to yet has no table: reading the
        // catalog still proves the replica serves reads, and the lag came from replay.
        if (replica && (err as { code?: string }).code === "42P01") {
          try {
            await live().query(SQL.catalogRead);
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
        const { rows } = await query<{ n: number }>("dbh_connections", SQL.connections);
        return rows[0]?.n ?? 0;
      } catch (err) {
        return fail(err, "connections");
      }
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
      if (c.processID != null && c.secretKey != null) void sendCancel(settings.cancel, c.processID, c.secretKey);
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
