// One probe cycle, phase by phase, next to a raw `SELECT 1` round trip and the same statements
// issued raw on one open connection of the same client library, measured interleaved in this
// process in one run. Usage (after pnpm build):
//   node bench/cycle.mjs postgres [cycles] [dsn]
//   node bench/cycle.mjs mysql [cycles] [dsn]
import { createRequire } from "node:module";

const engine = process.argv[2] ?? "postgres";
const cycles = Number(process.argv[3] ?? 2000);
const { createDriver, redactDsn } = await import("../packages/core/dist/index.js");

const engines = {
  async postgres(dsn) {
    const pg = createRequire(new URL("../packages/driver-postgres/package.json", import.meta.url))("pg");
    const { postgresDriver } = await import("../packages/driver-postgres/dist/definition.js");
    const { SQL } = await import("../packages/driver-postgres/dist/sql.js");
    const raw = new pg.Client({ connectionString: dsn });
    await raw.connect();
    const t = '"_health_check"';
    return {
      definition: postgresDriver,
      select1: () => raw.query("SELECT 1"),
      rawCycle: async (i) => {
        await raw.query("SELECT 1");
        await raw.query(SQL.write(t), ["bench-raw", String(i)]);
        await raw.query(SQL.read(t), ["bench-raw"]);
      },
      cleanup: async () => {
        await raw.query(`DELETE FROM ${t} WHERE probe_id IN ('bench-raw', 'bench-cycle')`);
        await raw.end();
      },
    };
  },
  async mysql(dsn) {
    const mysql = createRequire(new URL("../packages/driver-mysql/package.json", import.meta.url))("mysql2/promise");
    const { mysqlDriver } = await import("../packages/driver-mysql/dist/definition.js");
    const { SQL } = await import("../packages/driver-mysql/dist/sql.js");
    const { parseDsn } = await import("../packages/core/dist/index.js");
    const p = parseDsn(dsn);
    const raw = await mysql.createConnection({ host: p.host, port: p.port, user: p.user, password: p.password, database: p.database });
    const t = "`_health_check`";
    return {
      definition: mysqlDriver,
      select1: () => raw.query("SELECT 1"),
      rawCycle: async (i) => {
        await raw.query("SELECT 1");
        await raw.execute(SQL.write(t), ["bench-raw", String(i)]);
        await raw.execute(SQL.read(t), ["bench-raw"]);
      },
      cleanup: async () => {
        await raw.query(`DELETE FROM ${t} WHERE probe_id IN ('bench-raw', 'bench-cycle')`);
        await raw.end();
      },
    };
  },
};
const defaults = { postgres: "postgres://postgres@127.0.0.1:5432/test", mysql: "mysql://root@tcp(127.0.0.1:3306)/test" };
if (!engines[engine]) throw new Error(`engine must be one of ${Object.keys(engines).join(", ")}`);
const dsn = process.argv[4] ?? defaults[engine];

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const fmt = (ms) => `${ms.toFixed(3)} ms`;
const e = await engines[engine](dsn);
const driver = createDriver({ dsn, probeId: "bench-cycle", maxRetries: 0 }, { definition: e.definition });
await driver.probe(); // connect, create the table
const samples = { select1: [], rawCycle: [], cycle: [], ping: [], role: [], write: [], read: [], connections: [] };
for (let i = 0; i < cycles; i++) {
  let t0 = performance.now();
  await e.select1();
  samples.select1.push(performance.now() - t0);
  t0 = performance.now();
  await e.rawCycle(i);
  samples.rawCycle.push(performance.now() - t0);
  const r = await driver.probe();
  if (r.status !== "up") throw new Error(r.reason);
  samples.cycle.push(r.durationMs);
  for (const [phase, p] of Object.entries(r.phases)) if (p && samples[phase]) samples[phase].push(p.ms);
}
const row = (label, xs) => console.log(`  ${label.padEnd(38)} ${fmt(pct(xs, 50))} (p99 ${fmt(pct(xs, 99))})`);
console.log(`${engine} at ${redactDsn(dsn)}, ${cycles} cycles interleaved, median (p99)`);
row("raw SELECT 1 round trip", samples.select1);
for (const phase of ["ping", "role", "write", "read", "connections"]) row(`probe phase ${phase}`, samples[phase]);
row("raw ping + write + read, one connection", samples.rawCycle);
row("whole probe cycle (5 phases)", samples.cycle);
const probeSum = pct(samples.ping, 50) + pct(samples.write, 50) + pct(samples.read, 50);
console.log(`  ratio probe ping / raw SELECT 1:          ${(pct(samples.ping, 50) / pct(samples.select1, 50)).toFixed(2)}x`);
console.log(`  ratio probe ping+write+read / raw same:   ${(probeSum / pct(samples.rawCycle, 50)).toFixed(2)}x`);
const last = driver.lastResult();
console.log(`  last cycle: ${Object.entries(last.phases).map(([k, v]) => `${k} ${v.ms.toFixed(3)} ms`).join(", ")}`);
await e.cleanup();
await driver.close();
