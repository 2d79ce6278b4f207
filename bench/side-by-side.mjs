// Two daemons of 1,000 targets side by side: each with the same kind of targets (its own SQLite
// files, its own PostgreSQL and MariaDB databases), scraped at the same moments the way
// Prometheus scrapes (each /probe?target= and /metrics once every 15 s, gzip). CPU % (utime +
// stime from /proc) and peak RSS of each, per window, measured over the same seconds, so that
// what the machine does meanwhile weighs on both alike. Not part of `pnpm bench`
// (docs/performance.md): its figures are in bench/NOTES.md.
//
// `--against DIR` compares the CLI built in another checkout (DIR, after its own `pnpm build`)
// with this one's: `git worktree add /tmp/before HEAD~1 && (cd /tmp/before && pnpm install &&
// pnpm build) && node bench/side-by-side.mjs --against /tmp/before`. bench/memory-reducer.mjs
// uses the same windows for one build started with and without a Node.js option.
// Usage (after pnpm build): node bench/side-by-side.mjs --against DIR [--quick] [--rounds N]
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { onCleanup } from "./lib/cleanup.mjs";
import { spreadScrapes } from "./lib/load.mjs";
import { procStats, sleep, startProcess } from "./lib/proc.mjs";
import { runAsScript } from "./lib/section.mjs";
import { connectionBudget, dsnFor, freePort, myAdmin, pgAdmin, SHARED } from "./lib/servers.mjs";
import { mb, progress, ratio } from "./lib/stats.mjs";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
/** The CLI this checkout built. */
export const CLI = here("../apps/healthcheck/dist/cli.cjs");
const GZIP = { "Accept-Encoding": "gzip" };

/**
 * Runs two `variants` ({ label, cli, nodeFlags }) side by side and returns a section: one row
 * per window, then the mean CPU and the highest RSS of each, and the second's ratio to the first.
 */
export async function sideBySide({ quick, argv = [], variants, title, name = "side-by-side" }) {
  const n = 1000;
  const rounds = argv.includes("--rounds") ? Number(argv[argv.indexOf("--rounds") + 1]) : quick ? 1 : 3;
  const window = quick ? 20 : 45;
  const warmUp = quick ? 15 : 45;
  const dir = mkdtempSync(join(tmpdir(), `dbh-bench-${name}-`));
  onCleanup(`${name} temp dir`, () => rmSync(dir, { recursive: true, force: true }));
  const tag = `dbh_bench_sbs_${process.pid}`;
  const pgA = await pgAdmin();
  const myA = await myAdmin();
  // One connection per server target and daemon: what max_connections leaves, split in two.
  const pgCount = Math.min(20, Math.floor((await connectionBudget("postgres", pgA, 30)).budget / variants.length));
  const myCount = Math.min(30, Math.floor((await connectionBudget("mysql", myA, 40)).budget / variants.length));
  const dbs = variants.map((_, v) => ({
    pg: Array.from({ length: pgCount }, (_, i) => `${tag}_${v}_${i}`),
    my: Array.from({ length: myCount }, (_, i) => `${tag}_${v}_${i}`),
  }));
  onCleanup(`${name} databases`, async () => {
    for (const d of dbs) {
      for (const db of d.pg) await pgA.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => undefined);
      for (const db of d.my) await myA.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
    }
  });
  progress(`${name}: ${variants.length} × (${pgCount} PostgreSQL + ${myCount} MariaDB databases + ${n - pgCount - myCount} SQLite files)`);
  for (const d of dbs) {
    for (const db of d.pg) await pgA.query(`CREATE DATABASE "${db}" TEMPLATE template0`);
    for (const db of d.my) await myA.query(`CREATE DATABASE \`${db}\``);
  }

  const daemons = [];
  for (const [v, variant] of variants.entries()) {
    const targets = [
      ...dbs[v].pg.map((db, i) => ({ name: `pg-${i}`, dsn: dsnFor.postgres(SHARED.postgres, db) })),
      ...dbs[v].my.map((db, i) => ({ name: `my-${i}`, dsn: dsnFor.mysql(SHARED.mysql, db) })),
      ...Array.from({ length: n - pgCount - myCount }, (_, i) => ({ name: `lite-${i}`, dsn: `file:${join(dir, `v${v}-t${i}.db`)}?mode=rwc` })),
    ];
    const config = join(dir, `v${v}.yaml`);
    writeFileSync(config, JSON.stringify({ defaults: { interval: "15s" }, targets })); // JSON is YAML
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    progress(`${name}: starting ${variant.label}; waiting for every target's first cycle`);
    const { child } = await startProcess(
      variant.label,
      [...(variant.nodeFlags ?? []), variant.cli, "--config", config, "--export-prom", `127.0.0.1:${port}`, "--log-level", "warn"],
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
  progress(`${name}: ${warmUp} s of probing and Prometheus-style scrapes, not measured (warm-up)`);
  await scrapeBoth(warmUp);

  const rows = [];
  const totals = daemons.map(() => ({ cpu: 0, rss: 0 }));
  for (let r = 1; r <= rounds; r++) {
    progress(`${name}: window ${r}/${rounds}, ${window} s of Prometheus-style scrapes to both daemons`);
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
  const [a, b] = variants.map((v) => v.label);
  return {
    title: `${title} (${n} targets: ${pgCount} pg / ${myCount} mariadb / ${n - pgCount - myCount} sqlite per daemon, 15 s interval, ${window} s windows)`,
    header: ["", `CPU, ${a}`, `CPU, ${b}`, "ratio", `peak RSS, ${a}`, `peak RSS, ${b}`, "ratio", "requests / errors"],
    rows,
    notes: ["both daemons scraped at the same moments: each /probe?target= and /metrics once every 15 s, spread over the 15 s, gzip", `after ${warmUp} s of the same, not measured`],
    summary: [],
  };
}

export async function run({ quick, argv = [] }) {
  const at = argv.indexOf("--against");
  if (at < 0 || !argv[at + 1]) throw new Error("usage: node bench/side-by-side.mjs --against DIR [--quick] [--rounds N] (DIR: another checkout, built)");
  const other = resolve(argv[at + 1], "apps/healthcheck/dist/cli.cjs");
  if (!existsSync(other)) throw new Error(`${other} is missing: run pnpm build in ${argv[at + 1]} first`);
  return sideBySide({
    quick,
    argv,
    title: "Two builds side by side",
    variants: [
      { label: `--against build`, cli: other },
      { label: "this build", cli: CLI },
    ],
  });
}

runAsScript(import.meta.url, run);
