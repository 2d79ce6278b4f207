// The floor of section 3's N = 1,000 goals: the least a prober of the same targets can do. One
// connection held per target, opened as the probe opens it (SQLite: WAL, a 2-page cache, memory
// shrunk after the set-up), and every 15 s (each target at its own random offset) the statements of
// a probe cycle: PostgreSQL ping, role, upsert, read back, connection count; MariaDB ping, role,
// upsert, read back, connection count; SQLite ping, upsert, read back. No deadlines, no retries, no
// metrics, no logs: its HTTP server answers what the plain server of section 3 answers (a body read
// from a file for /metrics, gzipped once at start, one target's answer for /probe?target=), so the daemon's figures minus
// this process's are what db-health adds on top of probing and serving.
//
// Environment: NAIVE_CONFIG (the daemon's configuration, JSON: { targets: [{ name, dsn }] }),
// NAIVE_PORT, NAIVE_BODY and NAIVE_PROBE_BODY (files), NAIVE_MODULES (JSON: pg, mysql2,
// better-sqlite3 → paths). GET /ready answers 200 once every target has run one cycle.
"use strict";
const { readFileSync } = require("node:fs");
const http = require("node:http");
const { randomBytes } = require("node:crypto");
const { gzipSync } = require("node:zlib");

const modules = JSON.parse(process.env.NAIVE_MODULES);
const pg = require(modules.pg);
const mysql = require(modules.mysql2);
const Database = require(modules["better-sqlite3"]);
const { targets } = JSON.parse(readFileSync(process.env.NAIVE_CONFIG, "utf8"));
const body = readFileSync(process.env.NAIVE_BODY);
const probeBody = readFileSync(process.env.NAIVE_PROBE_BODY);
const gzipped = gzipSync(body, { level: 1 });
const INTERVAL = 15_000;
const TABLE = "_naive_health";
let cycled = 0;
let failed = 0;

function pgProber(dsn) {
  const c = new pg.Client({ connectionString: dsn });
  const ready = c.connect().then(() => c.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (probe_id text PRIMARY KEY, token text NOT NULL, checked_at timestamptz NOT NULL DEFAULT now())`));
  return async () => {
    await ready;
    await c.query("SELECT 1");
    await c.query("SELECT pg_is_in_recovery() AS replica, current_setting('transaction_read_only') AS read_only");
    const token = randomBytes(16).toString("hex");
    await c.query(`INSERT INTO ${TABLE} (probe_id, token) VALUES ($1, $2) ON CONFLICT (probe_id) DO UPDATE SET token = EXCLUDED.token, checked_at = now()`, ["naive", token]);
    const { rows } = await c.query(`SELECT token FROM ${TABLE} WHERE probe_id = $1`, ["naive"]);
    if (rows[0]?.token !== token) throw new Error("token not read back");
    await c.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database()");
  };
}

function mysqlProber(dsn) {
  // mysql://user@tcp(host:port)/db, as section 3 writes them.
  const m = /^mysql:\/\/([^@]+)@tcp\(([^:]+):(\d+)\)\/(.+)$/.exec(dsn);
  const c = mysql.createConnection({ user: m[1], host: m[2], port: Number(m[3]), database: m[4] });
  const q = (sql, values) => new Promise((resolve, reject) => c.query(sql, values, (err, rows) => (err ? reject(err) : resolve(rows))));
  const ready = q(`CREATE TABLE IF NOT EXISTS ${TABLE} (probe_id VARCHAR(128) NOT NULL PRIMARY KEY, token VARCHAR(64) NOT NULL, checked_at DATETIME(6) NOT NULL) ENGINE=InnoDB`);
  return async () => {
    await ready;
    await q("SELECT 1");
    await q("SELECT @@global.read_only AS read_only, @@session.tx_read_only AS tx_read_only");
    const token = randomBytes(16).toString("hex");
    await q(`INSERT INTO ${TABLE} (probe_id, token, checked_at) VALUES (?, ?, NOW(6)) ON DUPLICATE KEY UPDATE token = VALUES(token), checked_at = VALUES(checked_at)`, ["naive", token]);
    const rows = await q(`SELECT token FROM ${TABLE} WHERE probe_id = ?`, ["naive"]);
    if (rows[0]?.token !== token) throw new Error("token not read back");
    await q("SHOW GLOBAL STATUS LIKE 'Threads_connected'");
  };
}

function sqliteProber(dsn) {
  const path = dsn.replace(/^file:/, "").replace(/\?.*$/, "");
  const d = new Database(path);
  d.pragma("journal_mode = WAL");
  d.pragma("cache_size = 2");
  d.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (probe_id TEXT PRIMARY KEY, token TEXT NOT NULL, checked_at TEXT NOT NULL)`);
  d.exec("PRAGMA shrink_memory");
  const ping = d.prepare("SELECT 1");
  const write = d.prepare(`INSERT INTO ${TABLE} (probe_id, token, checked_at) VALUES (?, ?, datetime('now')) ON CONFLICT (probe_id) DO UPDATE SET token = excluded.token, checked_at = excluded.checked_at`);
  const read = d.prepare(`SELECT token FROM ${TABLE} WHERE probe_id = ?`).pluck();
  return async () => {
    ping.get();
    const token = randomBytes(16).toString("hex");
    write.run("naive", token);
    if (read.get("naive") !== token) throw new Error("token not read back");
  };
}

for (const t of targets) {
  const cycle = t.dsn.startsWith("postgres") ? pgProber(t.dsn) : t.dsn.startsWith("mysql") ? mysqlProber(t.dsn) : sqliteProber(t.dsn);
  let first = true;
  const run = () =>
    cycle().then(
      () => void (first && ((first = false), cycled++)),
      () => void failed++,
    );
  setTimeout(() => {
    void run();
    setInterval(run, INTERVAL);
  }, Math.random() * INTERVAL);
}

http
  .createServer((q, s) => {
    if (q.url === "/ready") {
      s.statusCode = cycled === targets.length ? 200 : 503;
      return s.end(`${cycled}/${targets.length} cycled, ${failed} failed\n`);
    }
    s.setHeader("content-type", "text/plain; version=0.0.4");
    if (q.url.startsWith("/probe?")) return s.end(probeBody);
    if (!/gzip/.test(q.headers["accept-encoding"] || "")) return s.end(body);
    s.setHeader("content-encoding", "gzip");
    s.end(gzipped);
  })
  .listen(Number(process.env.NAIVE_PORT), "127.0.0.1");
