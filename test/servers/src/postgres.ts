/**
 * Throwaway PostgreSQL clusters: initdb on a free loopback port, optional self-signed TLS, extra
 * pg_hba lines, roles and databases, streaming replicas, and pause/resume to simulate a hung
 * server. When we are root the cluster belongs to, and runs as, the `postgres` OS user.
 */
import { existsSync, readdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { isRoot, osUser, run, type OsUser } from "./_internal/exec.js";
import type { Layout } from "./_internal/layout.js";
import { bringUp, layoutFor, ThrowawayServer, TIMEOUT_MS, type EngineTraits, type Launch } from "./_internal/throwaway-server.js";
import { copyTls, makeTls, tlsDays } from "./_internal/tls.js";
import type { TestServer, TlsOptions } from "./types.js";

export interface PgUser {
  name: string;
  password?: string;
  superuser?: boolean;
  createdb?: boolean;
}

export interface PgClusterOptions {
  /** extra pg_hba.conf lines placed BEFORE the defaults (first match wins) */
  hba?: string[];
  /** server TLS with a self-signed CA + server cert (CN/SAN 127.0.0.1 and localhost) made with `openssl`, valid for `{ days }` (default 3); `caFile` and `certFile` expose them */
  ssl?: boolean | TlsOptions;
  /** extra server settings (`-c name=value`, after the harness's own so they win) */
  conf?: Record<string, string | number>;
  /** roles created after start (with SCRAM passwords when given) */
  users?: PgUser[];
  /** databases created after start (owner postgres) */
  databases?: string[];
}

/** Stop modes, named like `pg_ctl stop -m`: fast (the default) or immediate, a crash-like stop (recovery on the next start). */
export type PgStopMode = "fast" | "immediate";

/** A throwaway PostgreSQL cluster. dsn() defaults to user postgres, database postgres. */
export interface PgCluster extends TestServer<PgStopMode> {
  /** unix_socket_directories, owned by postgres, traversable by everyone */
  readonly socketDir: string;
  /** runs SQL as the superuser postgres over the unix socket and returns rows (a fresh client per call, always ended) */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], database?: string): Promise<T[]>;
  /** a streaming replica of this running primary on a new free port, started; destroy() it too */
  createReplica(): Promise<PgCluster>;
}

const CONNECT_TIMEOUT_MS = { ping: 2_000, query: 15_000 };
/** client.end() waits for the server to close the socket: never let a hung server hang us */
const END_TIMEOUT_MS = 2_000;

const ENGINE: EngineTraits<PgStopMode> = {
  name: "PostgreSQL",
  owner: "postgres",
  dsn: { scheme: "postgres", user: "postgres", database: "postgres" },
  // What pg_ctl stop -m sends: SIGINT = fast, SIGQUIT = immediate.
  stopSignals: { fast: "SIGINT", immediate: "SIGQUIT" },
  defaultStop: "fast",
  crashStop: "immediate",
};

/**
 * The newest `/usr/lib/postgresql/<major>/bin` that holds a `postgres` binary; throws a clear
 * Error naming the Debian package when there is none.
 */
export function pgBinDir(): string {
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((d) => /^\d+(\.\d+)?$/.test(d) && existsSync(join(root, d, "bin", "postgres")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = majors[0];
  if (newest === undefined) {
    throw new Error(
      `PostgreSQL server binaries not found under ${root}/<version>/bin (need initdb, postgres, pg_basebackup): install the postgresql Debian package`,
    );
  }
  return join(root, newest, "bin");
}

/** the postgres OS user when we are root (PostgreSQL refuses to run as root) */
const pgUser = (): OsUser | undefined => (isRoot ? osUser("postgres") : undefined);

const quoteIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;
const quoteLiteral = (s: string): string => `'${s.replace(/'/g, "''")}'`;

function hbaConf(extra: string[] = []): string {
  return [
    ...extra,
    "local all all trust",
    "host all postgres 127.0.0.1/32 trust",
    "host replication postgres 127.0.0.1/32 trust",
    "host all all 127.0.0.1/32 scram-sha-256",
    "",
  ].join("\n");
}

class Cluster extends ThrowawayServer<PgStopMode> implements PgCluster {
  readonly socketDir: string;

  constructor(
    layout: Layout,
    private readonly options: PgClusterOptions,
    caFile: string | undefined,
  ) {
    super(layout, caFile, ENGINE);
    this.socketDir = layout.socketDir;
  }

  async query<T = Record<string, unknown>>(sql: string, params?: unknown[], database = "postgres"): Promise<T[]> {
    return this.#query<T>(sql, params, database, CONNECT_TIMEOUT_MS.query);
  }

  createReplica(): Promise<PgCluster> {
    return this.replicate(async (layout) => {
      // -R writes standby.signal + primary_conninfo; -c fast avoids waiting for a spread checkpoint.
      const args = ["-D", layout.dataDir, "-h", "127.0.0.1", "-p", String(this.port), "-U", "postgres", "-R", "-X", "stream", "-c", "fast", "--no-sync"];
      await run(join(pgBinDir(), "pg_basebackup"), args, { cwd: layout.base, timeoutMs: TIMEOUT_MS.setup, as: pgUser() });
      // The copy brings the primary's pg_hba.conf; settings, port and TLS files are the replica's own.
      const caFile = this.caFile !== undefined ? await copyTls(this.layout, layout) : undefined;
      return new Cluster(layout, { ...this.options, users: [], databases: [] }, caFile);
    });
  }

  protected launch(): Launch {
    const settings: Record<string, string | number> = {
      listen_addresses: "127.0.0.1",
      port: this.port,
      unix_socket_directories: this.socketDir,
      // Durability is irrelevant for throwaway clusters and costs seconds per test file.
      fsync: "off",
      synchronous_commit: "off",
      full_page_writes: "off",
      shared_buffers: "16MB",
      max_connections: 50,
      // Replicas need WAL senders on the primary and read-only queries on the standby.
      wal_level: "replica",
      max_wal_senders: 5,
      hot_standby: "on",
      logging_collector: "off",
      ...(this.caFile !== undefined
        ? { ssl: "on", ssl_cert_file: join(this.layout.tlsDir, "server.crt"), ssl_key_file: join(this.layout.tlsDir, "server.key") }
        : {}),
      ...this.options.conf,
    };
    const args = ["-D", this.dataDir, ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])];
    return { file: join(pgBinDir(), "postgres"), args, as: pgUser() };
  }

  protected async ping(): Promise<void> {
    await this.#query("SELECT 1", [], "postgres", CONNECT_TIMEOUT_MS.ping);
  }

  async #query<T>(sql: string, params: unknown[] | undefined, database: string, connectTimeoutMs: number): Promise<T[]> {
    const client = new pg.Client({
      host: this.socketDir,
      port: this.port,
      user: "postgres",
      database,
      connectionTimeoutMillis: connectTimeoutMs,
      query_timeout: TIMEOUT_MS.query,
    });
    // Without a listener, a server-side disconnect after the query would be an uncaught error.
    client.on("error", () => {});
    try {
      await client.connect();
      const result = await client.query(sql, params);
      return result.rows as T[];
    } finally {
      await endClient(client);
    }
  }
}

/** client.end(), bounded */
async function endClient(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, END_TIMEOUT_MS);
    timer.unref();
  });
  await Promise.race([client.end().catch(() => {}), timedOut]);
  clearTimeout(timer);
}

/** role and database creation after the first start */
async function provision(cluster: Cluster, options: PgClusterOptions): Promise<void> {
  for (const user of options.users ?? []) {
    const attrs = ["LOGIN", user.superuser ? "SUPERUSER" : "", user.createdb ? "CREATEDB" : ""].filter(Boolean);
    // password_encryption defaults to scram-sha-256 (PG ≥ 14); set it explicitly anyway.
    const password = user.password !== undefined ? ` PASSWORD ${quoteLiteral(user.password)}` : "";
    await cluster.query(`SET password_encryption = 'scram-sha-256'; CREATE ROLE ${quoteIdent(user.name)} ${attrs.join(" ")}${password}`);
  }
  for (const db of options.databases ?? []) {
    await cluster.query(`CREATE DATABASE ${quoteIdent(db)} OWNER postgres`);
  }
}

/**
 * initdb + configure + start a throwaway cluster on a free 127.0.0.1 port. Superuser `postgres`
 * is trusted over the socket and from 127.0.0.1; other roles log in with SCRAM.
 *
 * @example
 * ```ts
 * const pg = await startCluster({ users: [{ name: "app", password: "s3cret" }] });
 * try {
 *   await pg.query("SELECT 1");
 *   const dsn = pg.dsn({ user: "app", password: "s3cret" });
 * } finally {
 *   await pg.destroy();
 * }
 * ```
 */
export async function startCluster(options: PgClusterOptions = {}): Promise<PgCluster> {
  const bin = pgBinDir(); // fail early with the clear message
  const layout = await layoutFor(ENGINE);
  return bringUp(
    "startCluster",
    layout,
    async () => {
      const args = ["-D", layout.dataDir, "-U", "postgres", "--auth-local=trust", "--auth-host=trust"];
      // C locale: independent of whatever LANG the test runner has, and the fastest to set up.
      args.push("-E", "UTF8", "--locale=C", "--no-instructions", "--no-sync");
      await run(join(bin, "initdb"), args, { cwd: layout.base, timeoutMs: TIMEOUT_MS.setup, as: pgUser() });
      await writeFile(join(layout.dataDir, "pg_hba.conf"), hbaConf(options.hba));
      return new Cluster(layout, options, options.ssl ? await makeTls(layout, tlsDays(options.ssl)) : undefined);
    },
    (cluster) => provision(cluster, options),
  );
}
