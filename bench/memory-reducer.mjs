// V8's memory reducer at 1,000 targets, side by side: two daemons of the built CLI, one started
// as `node cli.cjs`, one as `node --no-memory-reducer cli.cjs`, each with the same kind of
// targets (its own SQLite files, its own PostgreSQL and MariaDB databases), scraped at the same
// moments the way Prometheus scrapes (each /probe?target= and /metrics once every 15 s, gzip).
// CPU % (utime + stime from /proc) and peak RSS of each, per window, measured over the same
// seconds. Not part of `pnpm bench` (docs/performance.md): its figures are in bench/NOTES.md.
// Usage (after pnpm build): node bench/memory-reducer.mjs [--quick] [--rounds N]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { onCleanup } from "./lib/cleanup.mjs";
import { spreadScrapes } from "./lib/load.mjs";
import { procStats, sleep, startProcess } from "./lib/proc.mjs";
import { runAsScript } from "./lib/section.mjs";
import { connectionBudget, dsnFor, freePort, myAdmin, pgAdmin, SHARED } from "./lib/servers.mjs";
import { mb, progress, ratio } from "./lib/stats.mjs";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const cli = here("../apps/healthcheck/dist/cli.cjs");
const GZIP = { "Accept-Encoding": "gzip" };
const VARIANTS = [
  { label: "node cli.cjs", nodeFlags: [] },
  { label: "node --no-memory-reducer cli.cjs", nodeFlags: ["--no-memory-reducer"] },
];

export async function run({ quick, argv = [] }) {
  const n = 1000;
  const rounds = argv.includes("--rounds") ? Number(argv[argv.indexOf("--rounds") + 1]) : quick ? 1 : 3;
  const window = quick ? 20 : 45;
  const warmUp = quick ? 15 : 45;
  const dir = mkdtempSync(join(tmpdir(), "dbh-bench-reducer-"));
  onCleanup("memory-reducer temp dir", () => rmSync(dir, { recursive: true, force: true }));
  const tag = `dbh_bench_mr_${process.pid}`;
  const pgA = await pgAdmin();
  const myA = await myAdmin();
  // One connection per server target and daemon: what max_connections leaves, split in two.
  const pgCount = Math.min(20, Math.floor((await connectionBudget("postgres", pgA, 30)).budget / VARIANTS.length));
  const myCount = Math.min(30, Math.floor((await connectionBudget("mysql", myA, 40)).budget / VARIANTS.length));
  const dbs = VARIANTS.map((_, v) => ({
    pg: Array.from({ length: pgCount }, (_, i) => `${tag}_${v}_${i}`),
    my: Array.from({ length: myCount }, (_, i) => `${tag}_${v}_${i}`),
  }));
  onCleanup("memory-reducer databases", async () => {
    for (const d of dbs) {
      for (const db of d.pg) await pgA.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => undefined);
      for (const db of d.my) await myA.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
    }
  });
  progress(`memory-reducer: ${VARIANTS.length} × (${pgCount} PostgreSQL + ${myCount} MariaDB databases + ${n - pgCount - myCount} SQLite files)`);
  for (const d of dbs) {
    for (const db of d.pg) await pgA.query(`CREATE DATABASE "${db}" TEMPLATE template0`);
    for (const db of d.my) await myA.query(`CREATE DATABASE \`${db}\``);
  }

  const daemons = [];
  for (const [v, variant] of VARIANTS.entries()) {
    const targets = [
      ...dbs[v].pg.map((db, i) => ({ name: `pg-${i}`, dsn: dsnFor.postgres(SHARED.postgres, db) })),
      ...dbs[v].my.map((db, i) => ({ name: `my-${i}`, dsn: dsnFor.mysql(SHARED.mysql, db) })),
      ...Array.from({ length: n - pgCount - myCount }, (_, i) => ({ name: `lite-${i}`, dsn: `file:${join(dir, `v${v}-t${i}.db`)}?mode=rwc` })),
    ];
    const config = join(dir, `v${v}.yaml`);
    writeFileSync(config, JSON.stringify({ defaults: { interval: "15s" }, targets })); // JSON is YAML
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    progress(`memory-reducer: starting ${variant.label}; waiting for every target's first cycle`);
    const { child } = await startProcess(
      variant.label,
      [...variant.nodeFlags, cli, "--config", config, "--export-prom", `127.0.0.1:${port}`, "--log-level", "warn"],
      {},
      async () => {
        const text = await (await fetch(`${base}/metrics`)).text();
        return (text.match(/^db_up\{/gm) ?? []).length - (text.match(/^db_status\{[^}]*status="unknown"\} 1$/gm) ?? []).length === n;
      },
      180_000,
    );
    daemons.push({ ...variant, pid: child.pid, urls: [...targets.map((t) => `${base}/probe?target=${encodeURIComponent(t.name)}`), `${base}/metrics`] });
  }
  const scrapeBoth = (seconds) => spreadScrapes(daemons.flatMap((d) => d.urls), { period: 15, seconds, headers: GZIP });
  progress(`memory-reducer: ${warmUp} s of probing and Prometheus-style scrapes, not measured (warm-up)`);
  await scrapeBoth(warmUp);

  const rows = [];
  const totals = daemons.map(() => ({ cpu: 0, rss: 0 }));
  for (let r = 1; r <= rounds; r++) {
    progress(`memory-reducer: window ${r}/${rounds}, ${window} s of Prometheus-style scrapes to both daemons`);
    const before = daemons.map((d) => procStats(d.pid));
    const rss = daemons.map((d, i) => [before[i].rss]);
    const t0 = performance.now();
    let scraping = true;
    const sampler = (async () => {
      while (scraping) {
        await sleep(500);
        daemons.forEach((d, i) => rss[i].push(procStats(d.pid).rss));
      }
    })();
    const load = await scrapeBoth(window);
    scraping = false;
    await sampler;
    const wall = (performance.now() - t0) / 1000;
    const after = daemons.map((d) => procStats(d.pid));
    const cpu = daemons.map((_, i) => (100 * (after[i].cpu - before[i].cpu)) / wall);
    const peak = daemons.map((_, i) => Math.max(...rss[i], after[i].rss));
    cpu.forEach((c, i) => ((totals[i].cpu += c / rounds), (totals[i].rss = Math.max(totals[i].rss, peak[i]))));
    rows.push([`window ${r}`, `${cpu[0].toFixed(2)} %`, `${cpu[1].toFixed(2)} %`, ratio(cpu[1], cpu[0]), mb(peak[0]), mb(peak[1]), ratio(peak[1], peak[0]), `${load.requests} / ${load.errors}`]);
  }
  rows.push(["mean CPU, highest RSS", `${totals[0].cpu.toFixed(2)} %`, `${totals[1].cpu.toFixed(2)} %`, ratio(totals[1].cpu, totals[0].cpu), mb(totals[0].rss), mb(totals[1].rss), ratio(totals[1].rss, totals[0].rss), ""]);
  return {
    title: `V8's memory reducer, side by side (${n} targets: ${pgCount} pg / ${myCount} mariadb / ${n - pgCount - myCount} sqlite per daemon, 15 s interval, ${window} s windows)`,
    header: ["", "CPU, default", "CPU, --no-memory-reducer", "ratio", "peak RSS, default", "peak RSS, --no-memory-reducer", "ratio", "requests / errors"],
    rows,
    notes: ["both daemons scraped at the same moments: each /probe?target= and /metrics once every 15 s, spread over the 15 s, gzip", `after ${warmUp} s of the same, not measured`],
    summary: [],
  };
}

runAsScript(import.meta.url, run);
