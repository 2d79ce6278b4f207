// 2. Probe overhead: one in-process probe cycle next to the same statements issued raw on one
// open connection of the same client library, per engine, interleaved cycle by cycle in one
// process. Compared: the probe's ping + write + read phases against raw SELECT 1 + upsert +
// select; the probe's other phases (role, connections) are shown but have no raw twin. Also
// checks that the latencies the exporter reports keep sub-millisecond resolution.
// Usage (after pnpm build): node bench/cycle.mjs [--quick] [--json FILE] [postgres|mysql|sqlite …]
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onCleanup } from "./lib/cleanup.mjs";
import { runAsScript, verdict } from "./lib/section.mjs";
import { dsnFor, mysql, pg, SHARED } from "./lib/servers.mjs";
import { ms, pct, progress, ratio } from "./lib/stats.mjs";

const core = await import("../packages/core/dist/index.js");
const PROBE_ID = "bench-cycle";
const RAW_ID = "bench-raw";
const CONNECTS = 200;

const engines = {
  async postgres() {
    const { postgresDriver } = await import("../packages/driver-postgres/dist/definition.js");
    const { SQL } = await import("../packages/driver-postgres/dist/sql.js");
    const raw = new pg.Client({ ...SHARED.postgres });
    await raw.connect();
    const t = '"_health_check"';
    return {
      dsn: dsnFor.postgres(SHARED.postgres, "test"),
      definition: postgresDriver,
      rawCycle: (i) => timed([() => raw.query(SQL.ping), () => raw.query(SQL.write(t), [RAW_ID, String(i)]), () => raw.query(SQL.read(t), [RAW_ID])]),
      rawConnect: async () => {
        const c = new pg.Client({ ...SHARED.postgres });
        const t0 = performance.now();
        await c.connect();
        const took = performance.now() - t0;
        await c.end();
        return took;
      },
      cleanup: async () => {
        await raw.query(`DELETE FROM ${t} WHERE probe_id IN ($1, $2)`, [RAW_ID, PROBE_ID]);
        await raw.end();
      },
    };
  },
  async mysql() {
    const { mysqlDriver } = await import("../packages/driver-mysql/dist/definition.js");
    const { SQL } = await import("../packages/driver-mysql/dist/sql.js");
    const raw = await mysql.createConnection({ ...SHARED.mysql });
    const t = "`_health_check`";
    return {
      dsn: dsnFor.mysql(SHARED.mysql, "test"),
      definition: mysqlDriver,
      rawCycle: (i) => timed([() => raw.query("SELECT 1"), () => raw.execute(SQL.write(t), [RAW_ID, String(i)]), () => raw.execute(SQL.read(t), [RAW_ID])]),
      rawConnect: async () => {
        const t0 = performance.now();
        const c = await mysql.createConnection({ ...SHARED.mysql });
        const took = performance.now() - t0;
        await c.end();
        return took;
      },
      cleanup: async () => {
        await raw.query(`DELETE FROM ${t} WHERE probe_id IN (?, ?)`, [RAW_ID, PROBE_ID]);
        await raw.end();
      },
    };
  },
  async sqlite() {
    const { sqliteDriver } = await import("../packages/driver-sqlite/dist/definition.js");
    const Database = createRequire(new URL("../packages/driver-sqlite/package.json", import.meta.url))("better-sqlite3");
    const dir = mkdtempSync(join(tmpdir(), "dbh-bench-cycle-"));
    onCleanup("cycle sqlite dir", () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "cycle.db");
    const raw = new Database(file);
    raw.pragma("journal_mode = WAL");
    raw.exec('CREATE TABLE IF NOT EXISTS "_health_check" (probe_id TEXT PRIMARY KEY, token TEXT NOT NULL, checked_at TEXT NOT NULL)');
    const ping = raw.prepare("SELECT 1");
    const write = raw.prepare(`INSERT INTO "_health_check" (probe_id, token, checked_at) VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      ON CONFLICT (probe_id) DO UPDATE SET token = excluded.token, checked_at = excluded.checked_at`);
    const read = raw.prepare('SELECT token FROM "_health_check" WHERE probe_id = ?').pluck();
    return {
      dsn: `file:${file}?mode=rwc`,
      definition: sqliteDriver,
      rawCycle: (i) => timed([() => ping.get(), () => write.run(RAW_ID, String(i)), () => read.get(RAW_ID)]),
      rawConnect: async () => {
        const t0 = performance.now();
        const c = new Database(file);
        const took = performance.now() - t0;
        c.close();
        return took;
      },
      cleanup: async () => raw.close(),
    };
  },
};

/** Runs each statement in turn; resolves with each one's milliseconds. */
async function timed(steps) {
  const out = [];
  for (const step of steps) {
    const t0 = performance.now();
    await step();
    out.push(performance.now() - t0);
  }
  return out;
}

async function measure(engine, cycles) {
  const e = await engines[engine]();
  const driver = core.createDriver({ dsn: e.dsn, probeId: PROBE_ID, maxRetries: 0 }, { definition: e.definition });
  onCleanup(`${engine} probe driver`, () => driver.close());
  const metrics = core.createMetrics();
  await driver.probe(); // connect, create the table
  for (let i = 0; i < 50; i++) await Promise.all([e.rawCycle(i), driver.probe()]).catch(() => undefined); // warm the JIT on both sides
  const s = { raw: [], rawPing: [], rawWrite: [], rawRead: [], rawConnect: [], probe: [], cycle: [], connect: [], ping: [], role: [], write: [], read: [], connections: [] };
  const reported = [];
  for (let i = 0; i < cycles; i++) {
    const t0 = performance.now();
    const [rawPing, rawWrite, rawRead] = await e.rawCycle(i);
    s.raw.push(performance.now() - t0);
    s.rawPing.push(rawPing);
    s.rawWrite.push(rawWrite);
    s.rawRead.push(rawRead);
    const r = await driver.probe();
    if (r.status !== "up") throw new Error(`${engine}: ${r.reason}`);
    s.cycle.push(r.durationMs);
    s.probe.push(r.phases.ping.ms + r.phases.write.ms + r.phases.read.ms);
    for (const [phase, p] of Object.entries(r.phases)) if (p && s[phase]) s[phase].push(p.ms);
    if (i % 100 === 0) {
      metrics.observe(r);
      const text = await metrics.render();
      reported.push(Number(/^db_read_latency_ms\{[^}]*\} (\S+)$/m.exec(text)?.[1]));
    }
    if ((i + 1) % 1000 === 0) progress(`cycle ${engine}: ${i + 1}/${cycles}`);
  }
  // The connect phase only runs when there is no connection: a per-cycle driver opens one in
  // every cycle, next to a raw connect of the same client library.
  const fresh = core.createDriver({ dsn: e.dsn, probeId: PROBE_ID, maxRetries: 0, connection: "per-cycle" }, { definition: e.definition });
  onCleanup(`${engine} per-cycle driver`, () => fresh.close());
  for (let i = 0; i < CONNECTS; i++) {
    s.rawConnect.push(await e.rawConnect());
    const r = await fresh.probe();
    if (r.status !== "up" || !r.phases.connect) throw new Error(`${engine} per-cycle: ${r.reason}`);
    s.connect.push(r.phases.connect.ms);
  }
  await fresh.close();
  await e.cleanup();
  await driver.close();
  return { s, reported };
}

export async function run({ quick, argv = [] }) {
  const cycles = 2000;
  const chosen = argv.filter((a) => engines[a]);
  const list = chosen.length ? chosen : ["postgres", "mysql", "sqlite"];
  const rows = [];
  const summary = [];
  const notes = [];
  const figures = {};
  for (const engine of list) {
    progress(`cycle ${engine}: ${cycles} interleaved cycles`);
    const { s, reported } = await measure(engine, cycles);
    const p = (xs, q) => pct(xs, q);
    // each probe figure next to the raw one it is compared with
    const twins = new Map([[s.probe, s.raw], [s.ping, s.rawPing], [s.write, s.rawWrite], [s.read, s.rawRead], [s.connect, s.rawConnect]]);
    const pairs = [["  raw SELECT 1", s.rawPing], ["  probe ping", s.ping], ["  raw upsert", s.rawWrite], ["  probe write", s.write], ["  raw select token", s.rawRead], ["  probe read", s.read]];
    for (const [label, xs] of [["raw ping+write+read, one connection", s.raw], ["probe ping+write+read", s.probe], ...pairs, ["  probe role (no raw twin)", s.role], ["  probe connections (no raw twin)", s.connections], ["whole probe cycle", s.cycle], [`raw connect (${CONNECTS} new connections)`, s.rawConnect], [`probe connect phase (per-cycle, ${CONNECTS} cycles)`, s.connect]]) {
      const twin = twins.get(xs);
      if (xs.length) rows.push([engine, label, ms(p(xs, 50), 3), ms(p(xs, 99), 3), twin ? ratio(p(xs, 50), p(twin, 50)) : "", twin ? ratio(p(xs, 99), p(twin, 99)) : ""]);
    }
    const r50 = p(s.probe, 50) / p(s.raw, 50);
    summary.push([`${engine} probe ping+write+read, median`, ms(p(s.probe, 50), 3), `raw same statements ${ms(p(s.raw, 50), 3)}`, ratio(p(s.probe, 50), p(s.raw, 50)), "≤ 1.10x", verdict(r50, 1.1)]);
    summary.push([`${engine} probe ping+write+read, p99`, ms(p(s.probe, 99), 3), `raw same statements ${ms(p(s.raw, 99), 3)}`, ratio(p(s.probe, 99), p(s.raw, 99)), "—", "—"]);
    const fractional = reported.filter((v) => Number.isFinite(v) && v !== Math.round(v)).length;
    notes.push(`${engine}: ${reported.length} db_read_latency_ms values read from /metrics text, ${fractional} with a fractional part (e.g. ${reported.slice(0, 3).join(", ")})`);
    summary.push([`${engine} reported latency resolution`, `${fractional}/${reported.length} sub-ms`, "—", "—", "sub-ms", fractional === reported.length ? "met" : "MISSED"]);
    figures[engine] = { raw50: p(s.raw, 50), probe50: p(s.probe, 50), raw99: p(s.raw, 99), probe99: p(s.probe, 99) };
  }
  return {
    title: `2. Probe overhead (${cycles} cycles per engine, probe and raw interleaved in one process, after 50 warm-up cycles)`,
    header: ["engine", "what", "median", "p99", "ratio median", "ratio p99"],
    rows,
    summary,
    notes,
    figures,
  };
}

runAsScript(import.meta.url, run);
