// 4. Database footprint per probe cycle, counted on the server: throwaway PostgreSQL (with
// pg_stat_statements preloaded) and MariaDB (binary log on) started for this run, so nobody
// else's traffic is in the counters. Statements: pg_stat_statements calls / MariaDB Com_*
// counters; round trips: a counting loopback proxy between prober and server; WAL / binlog
// bytes: pg_current_wal_lsn() / binlog size deltas; and the rows left in _health_check.
// Baseline in the same run: the same three statements (ping, upsert, select) issued raw.
// Usage (after pnpm build): node bench/footprint.mjs [--quick] [--json FILE]
import { runAsScript, verdict } from "./lib/section.mjs";
import { countingProxy } from "./lib/proxy.mjs";
import { dsnFor, mysql, pg, startMariaDb, startPgCluster } from "./lib/servers.mjs";
import { progress, ratio } from "./lib/stats.mjs";

const core = await import("../packages/core/dist/index.js");
const { postgresDriver } = await import("../packages/driver-postgres/dist/definition.js");
const { mysqlDriver } = await import("../packages/driver-mysql/dist/definition.js");
const PG_SQL = (await import("../packages/driver-postgres/dist/sql.js")).SQL;
const MY_SQL = (await import("../packages/driver-mysql/dist/sql.js")).SQL;

const engines = {
  async postgres() {
    const { server, admin } = await startPgCluster();
    await admin.query("CREATE DATABASE bench");
    const counters = async () => {
      const { rows } = await admin.query(
        `SELECT coalesce(sum(calls), 0)::bigint AS statements, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS wal,
                coalesce(sum(calls) FILTER (WHERE query ~* '^\\s*(insert|update|delete)'), 0)::bigint AS writes
           FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'bench'`,
      );
      return { statements: Number(rows[0].statements), writes: Number(rows[0].writes), log: Number(rows[0].wal) };
    };
    const top = async (cycles) => {
      const { rows } = await admin.query(
        `SELECT calls, regexp_replace(left(query, 60), '\\s+', ' ', 'g') AS q FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
          WHERE d.datname = 'bench' ORDER BY calls DESC LIMIT 8`,
      );
      return rows.map((r) => `${(Number(r.calls) / cycles).toFixed(2)}/cycle ${r.q}`);
    };
    const rowsLeft = async () => {
      const c = new pg.Client({ ...server, database: "bench" });
      await c.connect();
      const { rows } = await c.query('SELECT count(*)::int AS n FROM "_health_check"');
      await c.end();
      return rows[0].n;
    };
    return {
      server, logName: "WAL", counters, top, rowsLeft,
      reset: () => admin.query("SELECT pg_stat_statements_reset()"),
      dsn: (s) => dsnFor.postgres(s, "bench"),
      definition: postgresDriver,
      raw: async (s) => {
        const c = new pg.Client({ ...s, database: "bench" });
        await c.connect();
        const t = '"_health_check"';
        return { cycle: async (i) => { await c.query(PG_SQL.ping); await c.query(PG_SQL.write(t), ["raw", String(i)]); await c.query(PG_SQL.read(t), ["raw"]); }, end: () => c.end() };
      },
    };
  },
  async mysql() {
    const { server, admin } = await startMariaDb();
    await admin.query("CREATE DATABASE bench");
    const status = async () => {
      const [rows] = await admin.query("SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_stmt_execute', 'Com_insert', 'Com_update', 'Com_delete')");
      const v = Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
      const [logs] = await admin.query("SHOW BINARY LOGS");
      return { statements: v.Questions, writes: v.Com_insert + v.Com_update + v.Com_delete, log: logs.reduce((s, l) => s + Number(l.File_size), 0) };
    };
    // The admin's own SHOW statements count as Questions: measure and subtract them.
    const a = await status();
    const b = await status();
    const own = b.statements - a.statements;
    const counters = async () => {
      const c = await status();
      return { ...c, statements: c.statements - own };
    };
    const rowsLeft = async () => {
      const [[r]] = await admin.query("SELECT COUNT(*) AS n FROM bench.`_health_check`");
      return Number(r.n);
    };
    return {
      server, logName: "binlog", counters, top: async () => [], rowsLeft,
      reset: async () => undefined,
      dsn: (s) => dsnFor.mysql(s, "bench"),
      definition: mysqlDriver,
      raw: async (s) => {
        const c = await mysql.createConnection({ ...s, database: "bench" });
        const t = "`_health_check`";
        return { cycle: async (i) => { await c.query("SELECT 1"); await c.execute(MY_SQL.write(t), ["raw", String(i)]); await c.execute(MY_SQL.read(t), ["raw"]); }, end: () => c.end() };
      },
    };
  },
};

async function measure(name, cycles) {
  progress(`footprint ${name}: starting a throwaway server`);
  const e = await engines[name]();
  const proxy = await countingProxy(e.server);
  const via = { ...e.server, host: proxy.host, port: proxy.port };
  const driver = core.createDriver({ dsn: e.dsn(via), probeId: "bench-footprint", maxRetries: 0 }, { definition: e.definition });
  const first = await driver.probe(); // connect + table setup, not counted
  if (first.status !== "up") throw new Error(`${name}: ${first.reason}`);
  const window = async (fn) => {
    await e.reset();
    proxy.reset();
    const before = await e.counters();
    for (let i = 0; i < cycles; i++) {
      await fn(i);
      if ((i + 1) % 2500 === 0) progress(`footprint ${name}: ${i + 1}/${cycles}`);
    }
    const after = await e.counters();
    const p = proxy.stats();
    return { statements: (after.statements - before.statements) / cycles, writes: (after.writes - before.writes) / cycles, log: (after.log - before.log) / cycles, trips: p.trips / cycles, bytes: (p.up + p.down) / cycles };
  };
  progress(`footprint ${name}: ${cycles} probe cycles`);
  const probe = await window(async () => {
    const r = await driver.probe();
    if (r.status !== "up") throw new Error(`${name}: ${r.reason}`);
  });
  const top = await e.top(cycles);
  await driver.close();
  const rowsAfter = await e.rowsLeft();
  progress(`footprint ${name}: ${cycles} raw cycles (baseline)`);
  const raw = await e.raw(via);
  const base = await window(raw.cycle);
  await raw.end();
  await proxy.close();
  return { probe, base, rowsAfter, top, logName: e.logName };
}

export async function run({ quick }) {
  const cycles = quick ? 2000 : 10_000;
  const rows = [];
  const summary = [];
  const notes = [];
  const figures = {};
  for (const name of ["postgres", "mysql"]) {
    const f = await measure(name, cycles);
    figures[name] = f;
    const line = (label, x) => [name, label, x.statements.toFixed(2), x.writes.toFixed(2), x.trips.toFixed(2), `${x.bytes.toFixed(0)} B`, `${x.log.toFixed(0)} B`];
    rows.push(line("probe cycle", f.probe), line("raw ping+write+read", f.base));
    summary.push([`${name} statements per cycle`, f.probe.statements.toFixed(2), `raw ${f.base.statements.toFixed(2)}`, ratio(f.probe.statements, f.base.statements), "—", "—"]);
    summary.push([`${name} round trips per cycle`, f.probe.trips.toFixed(2), `raw ${f.base.trips.toFixed(2)}`, ratio(f.probe.trips, f.base.trips), "—", "—"]);
    summary.push([`${name} ${f.logName} bytes per cycle`, f.probe.log.toFixed(0), `raw ${f.base.log.toFixed(0)}`, ratio(f.probe.log, f.base.log), "—", "—"]);
    summary.push([`${name} _health_check rows after ${cycles} cycles`, String(f.rowsAfter), "1 prober", "—", "1 row per prober", verdict(f.rowsAfter, 1)]);
    if (f.top.length) notes.push(`${name} statements: ${f.top.join("; ")}`);
  }
  notes.push("statements: pg_stat_statements calls (PostgreSQL), Questions minus the bench's own SHOW statements (MariaDB, of which Com_stmt_execute for prepared ones); round trips and bytes: counted by a loopback proxy between client and server");
  return {
    title: `4. Database footprint (${cycles} cycles per engine on throwaway servers; per cycle)`,
    header: ["engine", "what", "statements", "writes", "round trips", "bytes on wire", "WAL/binlog"],
    rows,
    summary,
    notes,
    figures,
  };
}

runAsScript(import.meta.url, run);
