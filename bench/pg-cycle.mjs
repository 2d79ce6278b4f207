// One probe cycle against PostgreSQL on 127.0.0.1, phase by phase, next to a raw `SELECT 1`
// round trip and the same statements issued raw on one open pg connection, all measured in
// this process in one run. Usage: node bench/pg-cycle.mjs [cycles] [dsn]   (after pnpm build)
import { createRequire } from "node:module";
const require = createRequire(new URL("../packages/driver-postgres/package.json", import.meta.url));
const pg = require("pg");
const { createDriver } = await import("../packages/core/dist/index.js");
const { postgresDriver } = await import("../packages/driver-postgres/dist/definition.js");

const cycles = Number(process.argv[2] ?? 2000);
const dsn = process.argv[3] ?? "postgres://postgres@127.0.0.1:5432/test";
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (ms) => `${ms.toFixed(3)} ms`;

// Raw: SELECT 1, and ping + write + read as the driver sends them, on one connection.
const raw = new pg.Client({ connectionString: dsn });
await raw.connect();
await raw.query(`CREATE TABLE IF NOT EXISTS _health_check (probe_id text PRIMARY KEY, token text NOT NULL, checked_at timestamptz NOT NULL DEFAULT now())`);
const { SQL } = await import("../packages/driver-postgres/dist/sql.js");
const t = '"_health_check"';
const driver = createDriver({ dsn, probeId: "bench-cycle", maxRetries: 0 }, { definition: postgresDriver });
await driver.probe();
const samples = { select1: [], rawCycle: [], cycle: [], connect: [], ping: [], role: [], write: [], read: [], connections: [] };
for (let i = 0; i < cycles; i++) {
  // interleaved, so load on the shared machine hits both alike
  let t0 = performance.now();
  await raw.query("SELECT 1");
  samples.select1.push(performance.now() - t0);
  t0 = performance.now();
  await raw.query("SELECT 1");
  await raw.query({ name: "w", text: SQL.write(t), values: ["bench-raw", String(i), 86400] });
  await raw.query({ name: "r", text: SQL.read(t), values: ["bench-raw"] });
  samples.rawCycle.push(performance.now() - t0);
  const r = await driver.probe();
  if (r.status !== "up") throw new Error(r.reason);
  samples.cycle.push(r.durationMs);
  for (const [phase, p] of Object.entries(r.phases)) if (p && phase !== "connect") samples[phase].push(p.ms);
}
const last = driver.lastResult();
console.log(`PostgreSQL at ${dsn.replace(/:[^:@/]*@/, ":***@")}, ${cycles} cycles, medians (p99)`);
console.log(`  raw SELECT 1 round trip            ${fmt(pct(samples.select1, 50))} (${fmt(pct(samples.select1, 99))})`);
for (const phase of ["ping", "role", "write", "read", "connections"]) {
  console.log(`  probe phase ${phase.padEnd(22)} ${fmt(pct(samples[phase], 50))} (${fmt(pct(samples[phase], 99))})`);
}
console.log(`  raw ping+write+read, one connection ${fmt(pct(samples.rawCycle, 50))} (${fmt(pct(samples.rawCycle, 99))})`);
console.log(`  whole probe cycle (5 phases)        ${fmt(pct(samples.cycle, 50))} (${fmt(pct(samples.cycle, 99))})`);
console.log(`  ratio probe ping / raw SELECT 1:    ${(pct(samples.ping, 50) / pct(samples.select1, 50)).toFixed(2)}x`);
console.log(`  ratio probe (ping+write+read) / raw: ${((pct(samples.ping, 50) + pct(samples.write, 50) + pct(samples.read, 50)) / pct(samples.rawCycle, 50)).toFixed(2)}x`);
console.log(`  one cycle's phases: ${Object.entries(last.phases).map(([k, v]) => `${k} ${v.ms.toFixed(3)} ms`).join(", ")}`);
await raw.query("DELETE FROM _health_check WHERE probe_id IN ('bench-raw', 'bench-cycle')");
await raw.end();
await driver.close();
