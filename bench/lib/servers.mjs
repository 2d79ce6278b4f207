// Database servers for the benchmarks: admin clients for the machine's shared PostgreSQL and
// MariaDB, and throwaway servers (own data dir, free loopback port) for figures that must not
// be disturbed by anyone else's traffic or that need settings the shared servers lack
// (pg_stat_statements preloaded, MariaDB binary log), from the test harness in test/servers
// (built by `pnpm build`). Everything started here is registered for cleanup, so ^C or a
// failure leaves no process, database or directory behind.
import { createRequire } from "node:module";
import { freePort, startCluster, startMariaServer } from "@alfred/db-health-test-servers";
import { onCleanup } from "./cleanup.mjs";

export { freePort };

const requireFrom = (pkg) => createRequire(new URL(`../../packages/${pkg}/package.json`, import.meta.url));
export const pg = requireFrom("driver-postgres")("pg");
export const mysql = requireFrom("driver-mysql")("mysql2/promise");

export const SHARED = {
  postgres: { host: "127.0.0.1", port: 5432, user: "postgres", database: "test" },
  mysql: { host: "127.0.0.1", port: 3306, user: "root", database: "test" },
};

/** DSNs in the forms the CLI reads (no password: the servers here trust loopback). */
export const dsnFor = {
  postgres: ({ host, port, user }, db) => `postgres://${user}@${host}:${port}/${db}`,
  mysql: ({ host, port, user }, db) => `mysql://${user}@tcp(${host}:${port})/${db}`,
};

/** A PostgreSQL admin client (ended at cleanup). */
export async function pgAdmin(server = SHARED.postgres, database = server.database) {
  const c = new pg.Client({ ...server, database });
  await c.connect();
  onCleanup("pg admin client", () => c.end());
  return c;
}

/** A MariaDB admin connection (ended at cleanup). */
export async function myAdmin(server = SHARED.mysql) {
  const c = await mysql.createConnection({ ...server, multipleStatements: true });
  onCleanup("mariadb admin connection", () => c.end());
  return c;
}

/**
 * How many more connections a benchmark may open on a shared server: what max_connections
 * leaves after the connections in use now, minus `reserve` for the engineers sharing it.
 */
export async function connectionBudget(engine, admin, reserve) {
  if (engine === "postgres") {
    const { rows } = await admin.query("SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int AS max, (SELECT count(*)::int FROM pg_stat_activity) AS used");
    return { max: rows[0].max, used: rows[0].used, budget: Math.max(0, rows[0].max - rows[0].used - reserve) };
  }
  const [[row]] = await admin.query("SELECT @@max_connections AS max, (SELECT COUNT(*) FROM information_schema.PROCESSLIST) AS used");
  return { max: Number(row.max), used: Number(row.used), budget: Math.max(0, Number(row.max) - Number(row.used) - reserve) };
}

/**
 * A throwaway PostgreSQL cluster with pg_stat_statements preloaded, on a free loopback port.
 * The harness tunes its clusters for test speed; the WAL and commit settings of a default server
 * are put back, so WAL bytes per cycle are what a real server writes. Returns its connection
 * settings; destroyed at cleanup.
 */
export async function startPgCluster() {
  const cluster = await startCluster({
    conf: {
      shared_preload_libraries: "pg_stat_statements",
      "pg_stat_statements.track": "all",
      full_page_writes: "on",
      synchronous_commit: "on",
      shared_buffers: "128MB",
      max_connections: 100,
    },
  });
  onCleanup("throwaway PostgreSQL", () => cluster.destroy());
  const server = { host: "127.0.0.1", port: cluster.port, user: "postgres", database: "postgres" };
  const admin = await pgAdmin(server);
  await admin.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  return { server, admin };
}

/**
 * A throwaway MariaDB (binary log on, ROW format) on a free loopback port, root with an empty
 * password. latin1 and a 32 MB buffer pool as a server without a config file has, so binlog
 * bytes per cycle match a plain server's. Returns its connection settings; destroyed at cleanup.
 */
export async function startMariaDb() {
  const db = await startMariaServer({
    conf: { character_set_server: "latin1", collation_server: "latin1_swedish_ci", innodb_buffer_pool_size: "32M" },
  });
  onCleanup("throwaway MariaDB", () => db.destroy());
  const server = { host: "127.0.0.1", port: db.port, user: "root", database: "test" };
  return { server, admin: await myAdmin(server) };
}
