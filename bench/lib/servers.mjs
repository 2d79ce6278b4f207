// Database servers for the benchmarks: admin clients for the machine's shared PostgreSQL and
// MariaDB, and throwaway servers (own data dir, free loopback port) for figures that must not
// be disturbed by anyone else's traffic or that need settings the shared servers lack
// (pg_stat_statements preloaded, MariaDB binary log). Everything started here is registered
// for cleanup, so ^C or a failure leaves no process, database or directory behind.
import { execFile, spawn } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { onCleanup } from "./cleanup.mjs";

const run = promisify(execFile);
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

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const isRoot = process.getuid?.() === 0;
const asUser = (user, file, args) => (isRoot ? ["runuser", ["-u", user, "--", file, ...args]] : [file, args]);
const chownTo = (user, path) => {
  if (!isRoot) return;
  const { uid, gid } = userIds(user);
  chownSync(path, uid, gid);
};
function userIds(name) {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no user ${name} on this machine`);
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * A throwaway PostgreSQL cluster with pg_stat_statements preloaded, on a free loopback port,
 * trust auth, fsync off. Returns its connection settings; stopped and deleted at cleanup.
 */
export async function startPgCluster() {
  const root = "/usr/lib/postgresql";
  const version = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a))[0] : undefined;
  if (!version) throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql");
  const bin = (name) => join(root, version, "bin", name);
  const base = mkdtempSync(join(tmpdir(), "dbh-bench-pg-"));
  const data = join(base, "data");
  const sock = join(base, "sock");
  mkdirSync(sock);
  chownTo("postgres", base);
  chownTo("postgres", sock);
  const port = await freePort();
  let started = false;
  onCleanup("throwaway PostgreSQL", async () => {
    if (started) await run(...asUser("postgres", bin("pg_ctl"), ["stop", "-D", data, "-m", "immediate", "-w", "-t", "20"])).catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  });
  await run(...asUser("postgres", bin("initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]), { timeout: 60_000 });
  const opts = [`-p ${port}`, `-k ${sock}`, "-c listen_addresses=127.0.0.1", "-c fsync=off", "-c shared_preload_libraries=pg_stat_statements", "-c pg_stat_statements.track=all"];
  started = true;
  await run(...asUser("postgres", bin("pg_ctl"), ["start", "-D", data, "-w", "-t", "30", "-l", join(base, "log"), "-o", opts.join(" ")]), { timeout: 40_000 });
  const server = { host: "127.0.0.1", port, user: "postgres", database: "postgres" };
  const admin = await pgAdmin(server);
  await admin.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  return { server, admin };
}

/**
 * A throwaway MariaDB with the binary log on (ROW format), on a free loopback port, root with
 * an empty password. Returns its connection settings; killed and deleted at cleanup.
 */
export async function startMariaDb() {
  const base = mkdtempSync(join(tmpdir(), "dbh-bench-mdb-"));
  const data = join(base, "data");
  const tmp = join(base, "tmp");
  mkdirSync(tmp);
  chownTo("mysql", base);
  chownTo("mysql", tmp);
  const port = await freePort();
  let child;
  onCleanup("throwaway MariaDB", async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    }
    rmSync(base, { recursive: true, force: true });
  });
  const user = isRoot ? ["--user=mysql"] : [];
  await run("mariadb-install-db", ["--no-defaults", `--datadir=${data}`, ...user, "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"], { timeout: 120_000 });
  child = spawn(
    "mariadbd",
    ["--no-defaults", `--datadir=${data}`, `--tmpdir=${tmp}`, ...user, `--port=${port}`, "--bind-address=127.0.0.1", `--socket=${join(base, "sock")}`,
      "--skip-name-resolve", "--log-bin=binlog", "--server-id=1", "--binlog-format=ROW", "--sync-binlog=0", "--innodb-flush-log-at-trx-commit=2",
      "--innodb-buffer-pool-size=32M", `--log-error=${join(base, "error.log")}`],
    { stdio: "ignore", env: { ...process.env, PATH: `/usr/sbin:${process.env.PATH}` } },
  );
  const server = { host: "127.0.0.1", port, user: "root", database: "test" };
  for (let i = 0; ; i++) {
    try {
      const c = await mysql.createConnection({ ...server, database: undefined });
      await c.query("CREATE DATABASE IF NOT EXISTS test");
      await c.end();
      break;
    } catch (err) {
      if (i > 150 || child.exitCode !== null) throw new Error(`throwaway MariaDB did not start: ${err.message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { server, admin: await myAdmin(server) };
}
