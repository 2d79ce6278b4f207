// One-shot cost of `healthcheck --once` per engine, side by side with its baselines: `node -e 0`,
// the engine's own ping tool, and a naive node script (load the client, connect, SELECT 1,
// exit). Runs are interleaved, so machine noise hits every command alike; medians are compared.
// Usage (after pnpm build): node bench/once.mjs [sqlite|postgres|mysql] [runs]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const engine = process.argv[2] ?? "sqlite";
const runs = Number(process.argv[3] ?? 15);
const cli = fileURLToPath(new URL("../apps/healthcheck/dist/cli.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "dbh-bench-"));
const node = process.execPath;
const naive = (file, source) => {
  writeFileSync(join(dir, file), source);
  return [node, [join(dir, file)]];
};
const pgDir = fileURLToPath(new URL("../packages/driver-postgres/", import.meta.url));
const myDir = fileURLToPath(new URL("../packages/driver-mysql/", import.meta.url));
const suites = {
  sqlite: () => ({
    "node -e 0": [node, ["-e", "0"]],
    "healthcheck --once (sqlite)": [node, [cli, "--once", "--dsn", `file:${join(dir, "bench.db")}`]],
  }),
  postgres: () => ({
    "node -e 0": [node, ["-e", "0"]],
    pg_isready: ["pg_isready", ["-q", "-h", "127.0.0.1", "-p", "5432"]],
    "naive node+pg script": naive(
      "naive-pg.cjs",
      `const { Client } = require(${JSON.stringify(join(pgDir, "node_modules/pg"))});
       const c = new Client({ connectionString: "postgres://postgres@127.0.0.1:5432/test" });
       c.connect().then(() => c.query("SELECT 1")).then(() => c.end());`,
    ),
    "healthcheck --once (postgres)": [node, [cli, "--once", "--dsn", "postgres://postgres@127.0.0.1:5432/test"]],
  }),
  mysql: () => ({
    "node -e 0": [node, ["-e", "0"]],
    "mysqladmin ping": ["mysqladmin", ["-h", "127.0.0.1", "-uroot", "ping", "--silent"]],
    "naive node+mysql2 script": naive(
      "naive-mysql.cjs",
      `const mysql = require(${JSON.stringify(join(myDir, "node_modules/mysql2/promise"))});
       mysql.createConnection({ host: "127.0.0.1", user: "root", database: "test" }).then(async (c) => { await c.query("SELECT 1"); await c.end(); });`,
    ),
    "healthcheck --once (mysql)": [node, [cli, "--once", "--dsn", "mysql://root@tcp(127.0.0.1:3306)/test"]],
  }),
};
if (!suites[engine]) throw new Error(`engine must be one of ${Object.keys(suites).join(", ")}`);
const commands = suites[engine]();
const time = ([cmd, args]) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: "ignore" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
for (const c of Object.values(commands)) time(c); // warm-up: file cache, table creation
const samples = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
for (let i = 0; i < runs; i++) for (const [name, c] of Object.entries(commands)) samples[name].push(time(c));
rmSync(dir, { recursive: true, force: true });
const base = median(samples["node -e 0"]);
console.log(`${engine}: ${runs} runs each, interleaved, after one warm-up run; ratio against node -e 0`);
for (const [name, xs] of Object.entries(samples)) {
  const m = median(xs);
  console.log(`  ${name.padEnd(32)} median ${m.toFixed(1).padStart(7)} ms  min ${Math.min(...xs).toFixed(1).padStart(7)} ms  ${(m / base).toFixed(2)}x`);
}
