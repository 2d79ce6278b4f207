// 1. One-shot cost: `healthcheck --once` per engine side by side with its baselines — `node -e 0`,
// a naive node script per engine (load the client, connect, SELECT 1, exit), `pg_isready` and
// `mysqladmin ping`. Runs are interleaved after a warm-up round, so machine noise hits every
// command alike; wall-time medians and peak RSS (GNU time, in a separate pass so that it does
// not weigh on the timings) are compared within the run.
// Usage (after pnpm build): node bench/once.mjs [--quick] [--json FILE]
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { onCleanup } from "./lib/cleanup.mjs";
import { runAsScript, verdict } from "./lib/section.mjs";
import { dsnFor, SHARED } from "./lib/servers.mjs";
import { mb, median, ms, progress, ratio } from "./lib/stats.mjs";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const cli = here("../apps/healthcheck/dist/cli.cjs");
const node = process.execPath;
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
  const commands = {
    "node -e 0": [node, ["-e", "0"]],
    pg_isready: ["pg_isready", ["-q", "-h", SHARED.postgres.host, "-p", String(SHARED.postgres.port)]],
    ...(mysqladmin ? { "mysqladmin ping": [mysqladmin, ["-h", SHARED.mysql.host, `-u${SHARED.mysql.user}`, "ping", "--silent"]] } : {}),
    "naive sqlite script": naive("naive-sqlite.cjs", `const D = require(${req("driver-sqlite", "better-sqlite3")}); const d = new D(${JSON.stringify(join(dir, "naive.db"))}); d.prepare("SELECT 1").get(); d.close();`),
    "naive pg script": naive(
      "naive-pg.cjs",
      `const { Client } = require(${req("driver-postgres", "pg")});
       const c = new Client(${JSON.stringify({ ...SHARED.postgres })});
       c.connect().then(() => c.query("SELECT 1")).then(() => c.end());`,
    ),
    "naive mysql2 script": naive(
      "naive-mysql.cjs",
      `const mysql = require(${req("driver-mysql", "mysql2/promise")});
       mysql.createConnection(${JSON.stringify({ ...SHARED.mysql })}).then(async (c) => { await c.query("SELECT 1"); await c.end(); });`,
    ),
    "healthcheck --once sqlite": [node, [cli, "--once", "--dsn", `file:${sqliteFile}?mode=rwc`]],
    "healthcheck --once postgres": [node, [cli, "--once", "--dsn", pgDsn]],
    "healthcheck --once mysql": [node, [cli, "--once", "--dsn", myDsn]],
  };
  const time = (name, [cmd, args]) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
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
        execFileSync("/usr/bin/time", ["-f", "%M", "-o", out, cmd, ...args], { stdio: "ignore" });
        return Number(readFileSync(out, "utf8").trim().split("\n").pop());
      });
      rss[name] = median(kb);
    }
  }
  const m = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs)]));
  const base = m["node -e 0"];
  const naiveFor = { sqlite: "naive sqlite script", postgres: "naive pg script", mysql: "naive mysql2 script" };
  const rows = Object.entries(samples).map(([name, xs]) => {
    const engine = /--once (\w+)/.exec(name)?.[1];
    return [name, ms(m[name]), ms(Math.min(...xs)), ratio(m[name], base), engine ? ratio(m[name], m[naiveFor[engine]]) : "", mb(rss[name]), ratio(rss[name], rss["node -e 0"])];
  });
  const summary = ["sqlite", "postgres", "mysql"].map((e) => {
    const r = m[`healthcheck --once ${e}`] / m[naiveFor[e]];
    return [`--once ${e} wall time`, ms(m[`healthcheck --once ${e}`]), `${naiveFor[e]} ${ms(m[naiveFor[e]])}`, ratio(m[`healthcheck --once ${e}`], m[naiveFor[e]]), e === "postgres" ? "≤ 0.60x" : "—", e === "postgres" ? verdict(r, 0.6) : "—"];
  });
  summary.push(["node -e 0 (floor)", ms(base), `naive pg script ${ms(m["naive pg script"])}`, ratio(base, m["naive pg script"]), "—", "—"]);
  return {
    title: `1. One-shot cost (${runs} interleaved runs each after a warm-up; wall-time median; peak RSS median of 3)`,
    header: ["command", "median", "min", "vs node -e 0", "vs naive script", "peak RSS", "RSS vs node -e 0"],
    rows,
    summary,
    notes: [`mysqladmin: ${mysqladmin ?? "not installed"}; RSS by ${existsSync("/usr/bin/time") ? "GNU time" : "n/a (no /usr/bin/time)"}`],
    figures: { medians: m, rss },
  };
}

runAsScript(import.meta.url, run);
