// 1. One-shot cost: `healthcheck --once` per engine side by side with its baselines — `node -e 0`,
// a naive node script per engine (load the client, connect, SELECT 1, exit), a naive pg script
// that runs the statements of a whole probe cycle, `pg_isready` and `mysqladmin ping` — and the
// start-up of `healthcheck --version`, `--help` and `status <url>` (against a small HTTP server
// answering 200) beside `node -e 0`. Runs are interleaved after a warm-up round, so machine noise
// hits every command alike; wall-time medians and peak RSS (GNU time, in a separate pass so that
// it does not weigh on the timings) are compared within the run. Every command runs with the
// environment a container has: NODE_EXTRA_CA_CERTS (which makes Node read a CA file at start-up)
// is removed.
// Usage (after pnpm build): node bench/once.mjs [--quick] [--json FILE]
// DB_HEALTH_BENCH_BASELINE_CLI=path/to/another/dist/cli.js adds `baseline:` rows that run that
// CLI the same way (e.g. main's, built in a `git worktree`), for before/after figures of one run.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { onCleanup } from "./lib/cleanup.mjs";
import { runAsScript, verdict } from "./lib/section.mjs";
import { dsnFor, pgAdmin, SHARED } from "./lib/servers.mjs";
import { mb, median, ms, progress, ratio } from "./lib/stats.mjs";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const cli = here("../apps/healthcheck/dist/cli.cjs");
const baselineCli = process.env.DB_HEALTH_BENCH_BASELINE_CLI || undefined;
const node = process.execPath;
const { NODE_EXTRA_CA_CERTS: _ca, DB_HEALTH_BENCH_BASELINE_CLI: _baseline, ...env } = process.env;

/** A server answering `200 ready` on 127.0.0.1 in a process of its own (the timed runs block this one). */
async function readyServer() {
  const child = spawn(node, ["-e", `require("node:http").createServer((q, s) => s.end("ready")).listen(0, "127.0.0.1", function () { console.log(this.address().port); })`], { stdio: ["ignore", "pipe", "inherit"] });
  onCleanup("status server", () => child.kill());
  const port = await new Promise((resolve, reject) => {
    child.stdout.once("data", (d) => resolve(Number(String(d).trim())));
    child.once("exit", (code) => reject(new Error(`status server exited ${code}`)));
  });
  return `http://127.0.0.1:${port}/readyz`;
}
const has = (cmd) => spawnSync(cmd, ["--version"], { stdio: "ignore" }).error === undefined;

export async function run({ quick }) {
  const runs = quick ? 20 : 30;
  const dir = mkdtempSync(join(tmpdir(), "dbh-bench-once-"));
  onCleanup("once temp dir", () => rmSync(dir, { recursive: true, force: true }));
  const naive = (file, source) => {
    writeFileSync(join(dir, file), source);
    return [node, [join(dir, file)]];
  };
  const req = (pkg, mod) => JSON.stringify(join(here(`../packages/${pkg}/`), "node_modules", mod));
  const pgDsn = dsnFor.postgres(SHARED.postgres, "test");
  const myDsn = dsnFor.mysql(SHARED.mysql, "test");
  const sqliteFile = join(dir, "once.db");
  const mysqladmin = ["mysqladmin", "mariadb-admin"].find(has);
  const readyz = await readyServer();
  // The naive full-cycle script's health table, dropped when the section ends.
  const admin = await pgAdmin();
  onCleanup("naive pg health table", () => admin.query("DROP TABLE IF EXISTS _bench_naive_health"));
  const clis = { healthcheck: cli, ...(baselineCli ? { "baseline: healthcheck": baselineCli } : {}) };
  const startup = Object.fromEntries(
    Object.entries(clis).flatMap(([label, file]) => [
      [`${label} --version`, [node, [file, "--version"]]],
      [`${label} --help`, [node, [file, "--help"]]],
      [`${label} status <url>`, [node, [file, "status", readyz]]],
    ]),
  );
  const once = Object.fromEntries(
    Object.entries(clis).flatMap(([label, file]) => [
      [`${label} --once sqlite`, [node, [file, "--once", "--dsn", `file:${sqliteFile}?mode=rwc`]]],
      [`${label} --once postgres`, [node, [file, "--once", "--dsn", pgDsn]]],
      [`${label} --once mysql`, [node, [file, "--once", "--dsn", myDsn]]],
    ]),
  );
  const commands = {
    "node -e 0": [node, ["-e", "0"]],
    // The floor of `status`: a CommonJS script that only sends the request and reads the answer.
    "naive http GET script": naive(
      "naive-http.cjs",
      `require("node:http").get(${JSON.stringify(readyz)}, { agent: false }, (res) => { res.resume(); res.on("end", () => { process.exitCode = res.statusCode === 200 ? 0 : 1; }); });`,
    ),
    ...startup,
    pg_isready: ["pg_isready", ["-q", "-h", SHARED.postgres.host, "-p", String(SHARED.postgres.port)]],
    ...(mysqladmin ? { "mysqladmin ping": [mysqladmin, ["-h", SHARED.mysql.host, `-u${SHARED.mysql.user}`, "ping", "--silent"]] } : {}),
    "naive sqlite script": naive("naive-sqlite.cjs", `const D = require(${req("driver-sqlite", "better-sqlite3")}); const d = new D(${JSON.stringify(join(dir, "naive.db"))}); d.prepare("SELECT 1").get(); d.close();`),
    "naive pg script": naive(
      "naive-pg.cjs",
      `const { Client } = require(${req("driver-postgres", "pg")});
       const c = new Client(${JSON.stringify({ ...SHARED.postgres })});
       c.connect().then(() => c.query("SELECT 1")).then(() => c.end());`,
    ),
    // The statements of a probe cycle on a primary, each one round trip, without deadlines, retries
    // or a report: set-up check, ping, role, upsert, read back, connection count.
    "naive pg full cycle": naive(
      "naive-pg-cycle.cjs",
      `const { Client } = require(${req("driver-postgres", "pg")});
       const c = new Client(${JSON.stringify({ ...SHARED.postgres })});
       const t = "_bench_naive_health";
       (async () => {
         await c.connect();
         await c.query("SELECT to_regclass($1) IS NOT NULL AS has_table, pg_is_in_recovery() AS in_recovery", [t]);
         await c.query(\`CREATE TABLE IF NOT EXISTS \${t} (probe_id text PRIMARY KEY, token text NOT NULL, checked_at timestamptz NOT NULL DEFAULT now())\`);
         await c.query("SELECT 1");
         await c.query("SELECT pg_is_in_recovery() AS replica, current_setting('transaction_read_only') AS read_only");
         const token = String(Math.random());
         await c.query(\`INSERT INTO \${t} (probe_id, token) VALUES ($1, $2) ON CONFLICT (probe_id) DO UPDATE SET token = EXCLUDED.token, checked_at = now()\`, ["naive", token]);
         const { rows } = await c.query(\`SELECT token FROM \${t} WHERE probe_id = $1\`, ["naive"]);
         if (rows[0]?.token !== token) throw new Error("token not read back");
         await c.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database()");
         await c.end();
       })();`,
    ),
    "naive mysql2 script": naive(
      "naive-mysql.cjs",
      `const mysql = require(${req("driver-mysql", "mysql2/promise")});
       mysql.createConnection(${JSON.stringify({ ...SHARED.mysql })}).then(async (c) => { await c.query("SELECT 1"); await c.end(); });`,
    ),
    ...once,
  };
  const time = (name, [cmd, args]) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"], env });
    if (r.status !== 0) throw new Error(`${name} exited ${r.status ?? r.signal}: ${String(r.stderr).slice(0, 300)}`);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  progress(`once: warm-up, then ${runs} interleaved rounds of ${Object.keys(commands).length} commands`);
  for (const [name, c] of Object.entries(commands)) time(name, c); // file cache, health tables
  const samples = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, c] of Object.entries(commands)) samples[name].push(time(name, c));
    if ((i + 1) % 10 === 0) progress(`once: round ${i + 1}/${runs}`);
  }
  // Peak RSS: GNU time's %M (max resident set, KB), median of 3.
  const rss = {};
  if (existsSync("/usr/bin/time")) {
    for (const [name, [cmd, args]] of Object.entries(commands)) {
      const out = join(dir, "rss.txt");
      const kb = [1, 2, 3].map(() => {
        execFileSync("/usr/bin/time", ["-f", "%M", "-o", out, cmd, ...args], { stdio: "ignore", env });
        return Number(readFileSync(out, "utf8").trim().split("\n").pop());
      });
      rss[name] = median(kb);
    }
  }
  const m = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs)]));
  const base = m["node -e 0"];
  const naiveFor = { sqlite: "naive sqlite script", postgres: "naive pg script", mysql: "naive mysql2 script" };
  const rows = Object.entries(samples).map(([name, xs]) => {
    const engine = /--once (\w+)$/.exec(name)?.[1];
    return [name, ms(m[name]), ms(Math.min(...xs)), ratio(m[name], base), engine ? ratio(m[name], m[naiveFor[engine]]) : "", mb(rss[name]), ratio(rss[name], rss["node -e 0"])];
  });
  const vsNode = (name) => m[name] / base;
  const summary = [
    ...["--version", "--help", "status <url>"].map((c) => [`healthcheck ${c} wall time`, ms(m[`healthcheck ${c}`]), `node -e 0 ${ms(base)}`, ratio(m[`healthcheck ${c}`], base), c === "--help" ? "—" : "≤ 1.50x", c === "--help" ? "—" : verdict(vsNode(`healthcheck ${c}`), 1.5)]),
    ...["sqlite", "postgres", "mysql"].map((e) => {
      const r = m[`healthcheck --once ${e}`] / m[naiveFor[e]];
      return [`--once ${e} wall time`, ms(m[`healthcheck --once ${e}`]), `${naiveFor[e]} ${ms(m[naiveFor[e]])}`, ratio(m[`healthcheck --once ${e}`], m[naiveFor[e]]), e === "postgres" ? "≤ 1.10x" : "—", e === "postgres" ? verdict(r, 1.1) : "—"];
    }),
    ["--once postgres vs the same statements", ms(m["healthcheck --once postgres"]), `naive pg full cycle ${ms(m["naive pg full cycle"])}`, ratio(m["healthcheck --once postgres"], m["naive pg full cycle"]), "—", "—"],
    ["naive http GET script (floor of status)", ms(m["naive http GET script"]), `node -e 0 ${ms(base)}`, ratio(m["naive http GET script"], base), "—", "—"],
    ["node -e 0 (floor)", ms(base), `naive pg script ${ms(m["naive pg script"])}`, ratio(base, m["naive pg script"]), "—", "—"],
  ];
  return {
    title: `1. One-shot cost (${runs} interleaved runs each after a warm-up; wall-time median; peak RSS median of 3)`,
    header: ["command", "median", "min", "vs node -e 0", "vs naive script", "peak RSS", "RSS vs node -e 0"],
    rows,
    summary,
    notes: [
      `mysqladmin: ${mysqladmin ?? "not installed"}; RSS by ${existsSync("/usr/bin/time") ? "GNU time" : "n/a (no /usr/bin/time)"}; NODE_EXTRA_CA_CERTS removed from every command's environment`,
      ...(baselineCli ? [`baseline: ${baselineCli}`] : []),
    ],
    figures: { medians: m, rss },
  };
}

runAsScript(import.meta.url, run);
