// 3. Scale: one daemon probing N = 10, 100, 1,000 targets at a 15 s interval — SQLite files plus
// as many PostgreSQL and MariaDB databases as the shared servers' max_connections allow (one
// connection held per target, which is what the CLI does) — under a steady 100 rps of /metrics
// scrapes. Measured from outside: CPU % (utime+stime from /proc), RSS, scrape latency, server
// connections; event-loop delay from inside via a preloaded monitor (bench/lib/eld-probe.mjs).
// Baseline in the same run: a plain Node HTTP server answering the same /metrics body under the
// same load. Databases, files and processes are removed at the end, also on ^C.
// Usage (after pnpm build): node bench/scale.mjs [--quick] [--json FILE]
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { onCleanup } from "./lib/cleanup.mjs";
import { procStats, sleep, startProcess } from "./lib/proc.mjs";
import { hasWrk, spreadScrapes, steadyLoad } from "./lib/load.mjs";
import { runAsScript, verdict } from "./lib/section.mjs";
import { connectionBudget, dsnFor, freePort, myAdmin, pgAdmin, SHARED } from "./lib/servers.mjs";
import { mb, median, ms, pct, progress, ratio } from "./lib/stats.mjs";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const cli = here("../apps/healthcheck/dist/cli.cjs");
// What Prometheus sends with every scrape.
const GZIP = { "Accept-Encoding": "gzip" };

/** Load at 100 rps on `url` for `seconds`, sampling the process meanwhile. */
async function underLoad(pid, url, seconds, sample, headers = {}, load = () => steadyLoad(url, { rps: 100, seconds, headers })) {
  const before = procStats(pid);
  const t0 = performance.now();
  const rss = [before.rss];
  const samples = [];
  let loading = true;
  const sampler = (async () => {
    while (loading) {
      await sleep(500);
      if (!loading) break;
      rss.push(procStats(pid).rss);
      if (sample) samples.push(await sample());
    }
  })();
  const result = await load();
  loading = false;
  await sampler;
  const after = procStats(pid);
  const wall = (performance.now() - t0) / 1000;
  return { load: result, cpuPct: (100 * (after.cpu - before.cpu)) / wall, rssMax: Math.max(...rss, after.rss), rssEnd: after.rss, samples, start: Date.now() - wall * 1000 };
}

/** Probing before the probing-alone window at N = 1,000, not measured: full run, quick run. */
const WARM_UP_S = [45, 15];

/** Whether a floor leaves the target reachable. */
const floorVerdict = (value, limit) => (!Number.isFinite(value) ? "n/a" : value <= limit ? "floor within target" : "floor above target");

export async function run({ quick }) {
  const sizes = [10, 100, 1000];
  const window = quick ? 8 : 45;
  const dir = mkdtempSync(join(tmpdir(), "dbh-bench-scale-"));
  onCleanup("scale temp dir", () => rmSync(dir, { recursive: true, force: true }));
  const tag = `dbh_bench_${process.pid}`;

  // How many server databases: one connection each, within what max_connections leaves.
  const pgA = await pgAdmin();
  const myA = await myAdmin();
  const pgB = await connectionBudget("postgres", pgA, 30);
  const myB = await connectionBudget("mysql", myA, 40);
  const pgCount = Math.min(quick ? 20 : 40, pgB.budget);
  const myCount = Math.min(quick ? 20 : 60, myB.budget);
  const notes = [
    `PostgreSQL max_connections ${pgB.max} (${pgB.used} in use at start): ${pgCount} databases; MariaDB max_connections ${myB.max} (${myB.used} in use): ${myCount} databases; the rest SQLite files`,
    `load generator: ${hasWrk() ? "wrk (2 connections, Lua delay for 100 rps)" : "Node open-loop generator (bench/lib/load.mjs)"}; window ${window} s per N (interval 15 s ±10 % jitter)`,
    `N=${sizes.at(-1)} is run again with connection: per-cycle (each cycle opens and closes its connection; nothing held between cycles); the "conns" column samples the servers at the end of the window`,
    `at N=${sizes.at(-1)}, with either connection setting, first, on a daemon nothing has scraped yet, after ${WARM_UP_S[quick ? 1 : 0]} s of probing not measured: ${quick ? 15 : 30} s of probing alone (no requests), then a window scraped as Prometheus really scrapes: each target's /probe?target= and /metrics once every 15 s, their starts spread over the 15 s, gzip (${quick ? 15 : 45} s after 15 s of the same not measured; a /probe whose target's result is older than the 5 s probe cache runs a cycle); the plain HTTP server then gets the same requests (one target's /probe answer for every /probe)`,
    `at N=${sizes.at(-1)} (persistent), the floor of those two windows: a naive prober of the same targets (bench/lib/naive-prober.cjs: one connection each, opened as the probe opens it, the statements of a probe cycle every 15 s at a random offset, no deadlines, metrics or logs) behind the plain server's answers, measured the same way after the daemon stopped`,
    "the ELD columns come from a 10 ms event-loop monitor the bench loads into the daemon (bench/lib/eld-probe.mjs); it starts with the 100 rps window, so the probing-alone and Prometheus-style windows measure the daemon without it (the daemon's own runtime metrics keep theirs)",
    `at N=${sizes.at(-1)} a second window with Accept-Encoding: gzip, as Prometheus scrapes; the exporter serves a /metrics body rendered at most 1 s earlier (and gzipped once per render) to every scrape in that second`,
  ];
  const pgDbs = Array.from({ length: pgCount }, (_, i) => `${tag}_${i}`);
  const myDbs = Array.from({ length: myCount }, (_, i) => `${tag}_${i}`);
  onCleanup("scale databases", async () => {
    for (const db of pgDbs) await pgA.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => undefined);
    for (const db of myDbs) await myA.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
  });
  progress(`scale: creating ${pgCount} PostgreSQL and ${myCount} MariaDB databases`);
  for (const db of pgDbs) await pgA.query(`CREATE DATABASE "${db}" TEMPLATE template0`);
  for (const db of myDbs) await myA.query(`CREATE DATABASE \`${db}\``);

  const rows = [];
  const figures = {};
  // The largest N once more with `connection: per-cycle`: nothing held between cycles.
  const variants = [...sizes.map((n) => ({ n, connection: "persistent" })), { n: sizes.at(-1), connection: "per-cycle" }];
  for (const { n, connection } of variants) {
    const perCycle = connection === "per-cycle";
    const key = perCycle ? `${n}-per-cycle` : n;
    const p = Math.min(pgCount, n === 10 ? 3 : n);
    const m = Math.min(myCount, n === 10 ? 3 : n);
    const targets = [
      ...pgDbs.slice(0, p).map((db, i) => ({ name: `pg-${i}`, dsn: dsnFor.postgres(SHARED.postgres, db) })),
      ...myDbs.slice(0, m).map((db, i) => ({ name: `my-${i}`, dsn: dsnFor.mysql(SHARED.mysql, db) })),
      ...Array.from({ length: n - p - m }, (_, i) => ({ name: `lite-${i}`, dsn: `file:${join(dir, `t${i}.db`)}?mode=rwc` })),
    ];
    const config = join(dir, `scale-${key}.yaml`);
    writeFileSync(config, JSON.stringify({ defaults: { interval: "15s", connection }, targets })); // JSON is YAML
    const port = await freePort();
    const eld = join(dir, `eld-${key}.jsonl`);
    const url = `http://127.0.0.1:${port}/metrics`;
    // Every target is on /metrics from the first scrape (db_status "unknown" until its first
    // cycle ends): ready once all of them have finished one.
    const probedCount = async () => {
      const text = await (await fetch(url)).text();
      return (text.match(/^db_up\{/gm) ?? []).length - (text.match(/^db_status\{[^}]*status="unknown"\} 1$/gm) ?? []).length;
    };
    progress(`scale N=${n}${perCycle ? " (connection: per-cycle)" : ""}: ${p} postgres + ${m} mariadb + ${n - p - m} sqlite targets; waiting for the first cycle`);
    const t0 = performance.now();
    const daemon = await startProcess(
      `daemon N=${n}`,
      ["--import", here("./lib/eld-probe.mjs"), cli, "--config", config, "--export-prom", `127.0.0.1:${port}`, "--log-level", "warn"],
      // Its event-loop monitor starts with the 100 rps windows, the only ones that report it.
      { BENCH_ELD_FILE: eld, BENCH_ELD_DEFER: "1" },
      async () => (await probedCount()) === n,
      180_000,
    );
    const firstCycle = performance.now() - t0;
    await sleep(1000);
    const largest = n === sizes.at(-1) && !perCycle;
    // Probing alone and Prometheus-style windows at the largest N, with either connection setting.
    const promStyle = n === sizes.at(-1);
    // At the largest N, first (on a daemon that nothing else has scraped yet): probing alone, then
    // the scrapes of a real Prometheus — each target's /probe?target= and /metrics once every
    // 15 s. The 100 rps windows come after: their 8 MB bodies grow the heap, which a later window
    // would inherit.
    let di;
    let dp;
    const promUrls = targets.map((t) => `/probe?target=${encodeURIComponent(t.name)}`);
    if (promStyle) {
      const idleWindow = quick ? 15 : 30;
      // A daemon is measured running, as Prometheus meets it: past the first rounds (every
      // target's first cycles bunched, code not yet optimized). The naive prober gets the same.
      progress(`scale N=${n}: ${WARM_UP_S[quick ? 1 : 0]} s of probing, not measured (warm-up)`);
      await sleep(WARM_UP_S[quick ? 1 : 0] * 1000);
      progress(`scale N=${n}: ${idleWindow} s of probing alone (no scrapes)`);
      di = await underLoad(daemon.child.pid, url, idleWindow, undefined, {}, () => sleep(idleWindow * 1000));
      const promWindow = quick ? 15 : 45;
      const urls = [...promUrls.map((u) => `http://127.0.0.1:${port}${u}`), url];
      // Prometheus scrapes a daemon that has been running: the first rounds after start-up (every
      // target's cycles bunched, code not yet optimized) cost more, so one period is not measured.
      progress(`scale N=${n}: 15 s of Prometheus-style scrapes, not measured (warm-up)`);
      await spreadScrapes(urls, { period: 15, seconds: 15, headers: GZIP });
      progress(`scale N=${n}: ${promWindow} s of Prometheus-style scrapes (each /probe?target= and /metrics every 15 s, gzip)`);
      dp = await underLoad(daemon.child.pid, url, promWindow, undefined, GZIP, () => spreadScrapes(urls, { period: 15, seconds: promWindow, headers: GZIP }));
      dp.window = promWindow;
    }
    process.kill(daemon.child.pid, "SIGWINCH");
    progress(`scale N=${n}: ${window} s of 100 rps on /metrics`);
    const connections = async () => {
      const { rows: r } = await pgA.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname LIKE $1", [`${tag}\\_%`]);
      const [[q]] = await myA.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB LIKE ?", [`${tag}\\_%`]);
      return { pg: r[0].n, my: Number(q.n) };
    };
    const d = await underLoad(daemon.child.pid, url, window, connections);
    // The same load as Prometheus sends it (Accept-Encoding: gzip), at the largest N only.
    let dz;
    if (largest) {
      progress(`scale N=${n}: ${window} s of 100 rps on /metrics with Accept-Encoding: gzip`);
      dz = await underLoad(daemon.child.pid, url, window, undefined, GZIP);
    }
    // One target's /probe answer, for the plain server's Prometheus-style baseline.
    const probeBody = largest ? await (await fetch(`http://127.0.0.1:${port}${promUrls[0]}`)).text() : "";
    const body = await (await fetch(url, { headers: { "accept-encoding": "identity" } })).text();
    const eldLines = existsSync(eld) ? readFileSync(eld, "utf8").trim().split("\n").map((l) => JSON.parse(l)) : [];
    const lines = eldLines.filter((l) => l.t >= d.start && (!dz || l.t < dz.start));
    const zLines = dz ? eldLines.filter((l) => l.t >= dz.start) : [];
    await daemon.stop();

    // Baseline: a plain node HTTP server answering the same body, same load (measured once per N).
    const bodyFile = join(dir, "body.txt");
    writeFileSync(bodyFile, body);
    const bport = await freePort();
    const burl = `http://127.0.0.1:${bport}/metrics`;
    // It answers gzip with the body compressed once at start (what a cache can do at best).
    const probeFile = join(dir, "probe-body.txt");
    writeFileSync(probeFile, probeBody);
    // /probe?target= gets one target's answer as it is (the exporter does not gzip those), the rest the body.
    const src = `const fs=require("fs");const b=fs.readFileSync(${JSON.stringify(bodyFile)});const p=fs.readFileSync(${JSON.stringify(probeFile)});const z=require("zlib").gzipSync(b,{level:1});require("http").createServer((q,s)=>{s.setHeader("content-type","text/plain; version=0.0.4");if(q.url.startsWith("/probe?")){s.end(p)}else if(/gzip/.test(q.headers["accept-encoding"]||"")){s.setHeader("content-encoding","gzip");s.end(z)}else s.end(b)}).listen(${bport},"127.0.0.1")`;
    let b;
    let bz;
    let bp;
    if (perCycle) {
      b = figures[n].base;
      bp = figures[n].prom?.base;
    } else {
      const base = await startProcess(`baseline server N=${n}`, ["-e", src], {}, async () => (await fetch(burl)).ok, 10_000);
      b = await underLoad(base.child.pid, burl, quick ? 5 : 15);
      bz = dz ? await underLoad(base.child.pid, burl, quick ? 5 : 15, undefined, GZIP) : undefined;
      if (dp) {
        const urls = [...promUrls.map((u) => `http://127.0.0.1:${bport}${u}`), burl];
        bp = await underLoad(base.child.pid, burl, dp.window, undefined, GZIP, () => spreadScrapes(urls, { period: 15, seconds: dp.window, headers: GZIP }));
      }
      await base.stop();
    }
    // The floor of the Prometheus-style goals: a naive prober of the same targets (the same
    // statements on one connection each, nothing else) behind the plain server, same windows.
    let naive;
    if (dp && !perCycle) {
      const nport = await freePort();
      const nurl = `http://127.0.0.1:${nport}/metrics`;
      const lib = (mod, pkg) => join(here(`../packages/${pkg}/`), "node_modules", mod);
      const modules = { pg: lib("pg", "driver-postgres"), mysql2: lib("mysql2", "driver-mysql"), "better-sqlite3": lib("better-sqlite3", "driver-sqlite") };
      progress(`scale N=${n}: the naive prober (same statements, one connection per target, static bodies); waiting for its first cycles`);
      const np = await startProcess(
        `naive prober N=${n}`,
        [here("./lib/naive-prober.cjs")],
        { NAIVE_CONFIG: config, NAIVE_PORT: String(nport), NAIVE_BODY: bodyFile, NAIVE_PROBE_BODY: probeFile, NAIVE_MODULES: JSON.stringify(modules) },
        async () => (await fetch(`http://127.0.0.1:${nport}/ready`)).ok,
        60_000,
      );
      const idleWindow = quick ? 15 : 30;
      await sleep(WARM_UP_S[quick ? 1 : 0] * 1000);
      const ni = await underLoad(np.child.pid, nurl, idleWindow, undefined, {}, () => sleep(idleWindow * 1000));
      const urls = [...promUrls.map((u) => `http://127.0.0.1:${nport}${u}`), nurl];
      await spreadScrapes(urls, { period: 15, seconds: 15, headers: GZIP });
      const npw = await underLoad(np.child.pid, nurl, dp.window, undefined, GZIP, () => spreadScrapes(urls, { period: 15, seconds: dp.window, headers: GZIP }));
      await np.stop();
      naive = { idle: { cpuPct: ni.cpuPct, rssMax: ni.rssMax }, prom: { cpuPct: npw.cpuPct, rssMax: npw.rssMax } };
      progress(`scale N=${n} naive prober: probing alone ${naive.idle.cpuPct.toFixed(1)} %, Prometheus-style ${naive.prom.cpuPct.toFixed(1)} %, rss ${mb(naive.prom.rssMax)}`);
    }

    const conn = d.samples.at(-1) ?? { pg: NaN, my: NaN };
    const f = {
      n, firstCycle, cpuPct: d.cpuPct, rssMax: d.rssMax, rssEnd: d.rssEnd, scrape: d.load, bodyBytes: body.length,
      eldP50: median(lines.map((l) => l.p50)), eldP99: Math.max(...lines.map((l) => l.p99)), eldMax: Math.max(...lines.map((l) => l.max)),
      pgConn: conn.pg, myConn: conn.my, pgTargets: p, myTargets: m, base: { cpuPct: b.cpuPct, rssMax: b.rssMax, scrape: b.load, load: b.load },
      ...(dp ? { prom: { cpuPct: dp.cpuPct, rssMax: dp.rssMax, scrape: dp.load, window: dp.window, base: { cpuPct: bp.cpuPct, rssMax: bp.rssMax, scrape: bp.scrape ?? bp.load } } } : {}),
      ...(di ? { idle: { cpuPct: di.cpuPct, rssMax: di.rssMax } } : {}),
      ...(naive ? { naive } : {}),
      ...(dz ? { gzip: { cpuPct: dz.cpuPct, rssMax: dz.rssMax, scrape: dz.load, eldP99: Math.max(...zLines.map((l) => l.p99)), base: { cpuPct: bz.cpuPct, scrape: bz.load } } } : {}),
    };
    figures[key] = f;
    rows.push([
      perCycle ? `${n} per-cycle` : String(n), `${p}/${m}/${n - p - m}`, `${f.cpuPct.toFixed(1)} %`, `${b.cpuPct.toFixed(1)} %`, mb(f.rssMax), mb(b.rssMax), ratio(f.rssMax, b.rssMax),
      `${ms(f.eldP50)} / ${ms(f.eldP99)}`, `${ms(f.scrape.p50, 2)} / ${ms(f.scrape.p99, 2)}`, `${ms((b.load ?? b.scrape).p50, 2)} / ${ms((b.load ?? b.scrape).p99, 2)}`, ratio(f.scrape.p99, (b.load ?? b.scrape).p99),
      `${(body.length / 1024).toFixed(0)} KB`, `${f.pgConn}/${f.myConn}`, `${(firstCycle / 1000).toFixed(1)} s`,
    ]);
    progress(`scale N=${n}${perCycle ? " per-cycle" : ""}: cpu ${f.cpuPct.toFixed(1)} %, rss ${mb(f.rssMax)}, scrape p99 ${ms(f.scrape.p99, 2)} (${f.scrape.requests} requests, ${f.scrape.errors} errors)`);
    if (f.prom) progress(`scale N=${n} Prometheus-style: cpu ${f.prom.cpuPct.toFixed(1)} %, rss ${mb(f.prom.rssMax)}, scrape p99 ${ms(f.prom.scrape.p99, 2)} (${f.prom.scrape.requests} requests, ${f.prom.scrape.errors} errors)`);
    if (f.gzip) progress(`scale N=${n} gzip: cpu ${f.gzip.cpuPct.toFixed(1)} % (base ${f.gzip.base.cpuPct.toFixed(1)} %), scrape p99 ${ms(f.gzip.scrape.p99, 2)} (${f.gzip.scrape.requests} requests, ${f.gzip.scrape.errors} errors)`);
  }
  const big = figures[1000];
  // CPU of probing alone: the daemon's CPU minus the baseline server's under the same scrapes.
  const summary = [
    ["N=1000 CPU (probing + 100 rps scrapes)", `${big.cpuPct.toFixed(1)} % of a core`, `plain HTTP server ${big.base.cpuPct.toFixed(1)} %`, ratio(big.cpuPct, big.base.cpuPct), "≤ 5 %", verdict(big.cpuPct, 5)],
    ["N=1000 peak RSS", mb(big.rssMax), `plain HTTP server ${mb(big.base.rssMax)}`, ratio(big.rssMax, big.base.rssMax), "≤ 200 MB", verdict(big.rssMax / 1024, 200)],
    ["N=1000 /metrics p99 at 100 rps", ms(big.scrape.p99, 2), `plain HTTP server, same body ${ms(big.base.scrape.p99, 2)}`, ratio(big.scrape.p99, big.base.scrape.p99), "≤ 50 ms", verdict(big.scrape.p99, 50)],
    ["N=1000 event-loop delay p99 (worst second)", ms(big.eldP99), "—", "—", "—", "—"],
    ["N=1000 CPU, scrapes with Accept-Encoding: gzip", `${big.gzip.cpuPct.toFixed(1)} % of a core`, `plain HTTP server, same body gzipped once ${big.gzip.base.cpuPct.toFixed(1)} %`, ratio(big.gzip.cpuPct, big.gzip.base.cpuPct), "≤ 5 %", verdict(big.gzip.cpuPct, 5)],
    ["N=1000 /metrics p99, Accept-Encoding: gzip", ms(big.gzip.scrape.p99, 2), `plain HTTP server, same body gzipped once ${ms(big.gzip.base.scrape.p99, 2)}`, ratio(big.gzip.scrape.p99, big.gzip.base.scrape.p99), "≤ 50 ms", verdict(big.gzip.scrape.p99, 50)],
    ["N=1000 event-loop delay p99, gzip scrapes", ms(big.gzip.eldP99), "—", "—", "—", "—"],
    ["N=1000 CPU, probing alone (no scrapes)", `${big.idle.cpuPct.toFixed(1)} % of a core`, "—", "—", "—", "—"],
    ["N=1000 CPU, Prometheus-style scrapes (each /probe?target= and /metrics every 15 s)", `${big.prom.cpuPct.toFixed(1)} % of a core`, `plain HTTP server, same requests ${big.prom.base.cpuPct.toFixed(1)} %`, ratio(big.prom.cpuPct, big.prom.base.cpuPct), "≤ 5 %", verdict(big.prom.cpuPct, 5)],
    ["N=1000 peak RSS, Prometheus-style scrapes", mb(big.prom.rssMax), `plain HTTP server, same requests ${mb(big.prom.base.rssMax)}`, ratio(big.prom.rssMax, big.prom.base.rssMax), "≤ 200 MB", verdict(big.prom.rssMax / 1024, 200)],
    ["N=1000 scrape p99, Prometheus-style (/probe and /metrics)", ms(big.prom.scrape.p99, 2), `${big.prom.scrape.requests} requests, ${big.prom.scrape.errors} errors`, "—", "—", "—"],
    ...(big.naive
      ? [
          ["N=1000 CPU, probing alone, naive prober (floor)", `${big.naive.idle.cpuPct.toFixed(1)} % of a core`, "—", "—", "—", "—"],
          ["N=1000 CPU, probing alone, daemon vs naive prober", `${big.idle.cpuPct.toFixed(1)} % of a core`, `naive prober ${big.naive.idle.cpuPct.toFixed(1)} %`, ratio(big.idle.cpuPct, big.naive.idle.cpuPct), "—", "—"],
          ["N=1000 CPU, Prometheus-style, naive prober (floor)", `${big.naive.prom.cpuPct.toFixed(1)} % of a core`, `plain HTTP server, same requests ${big.prom.base.cpuPct.toFixed(1)} %`, ratio(big.naive.prom.cpuPct, big.prom.base.cpuPct), "≤ 5 %", floorVerdict(big.naive.prom.cpuPct, 5)],
          ["N=1000 CPU, Prometheus-style, daemon vs naive prober", `${big.prom.cpuPct.toFixed(1)} % of a core`, `naive prober ${big.naive.prom.cpuPct.toFixed(1)} %`, ratio(big.prom.cpuPct, big.naive.prom.cpuPct), "—", "—"],
          ["N=1000 peak RSS, Prometheus-style, naive prober (floor)", mb(big.naive.prom.rssMax), `plain HTTP server, same requests ${mb(big.prom.base.rssMax)}`, ratio(big.naive.prom.rssMax, big.prom.base.rssMax), "≤ 200 MB", floorVerdict(big.naive.prom.rssMax / 1024, 200)],
          ["N=1000 peak RSS, Prometheus-style, daemon vs naive prober", mb(big.prom.rssMax), `naive prober ${mb(big.naive.prom.rssMax)}`, ratio(big.prom.rssMax, big.naive.prom.rssMax), "—", "—"],
        ]
      : []),
    ["connections held (pg / mariadb) at N=1000", `${big.pgConn} / ${big.myConn}`, `targets ${big.pgTargets} / ${big.myTargets}`, "—", "one per target", big.pgConn <= big.pgTargets && big.myConn <= big.myTargets ? "met" : "MISSED"],
  ];
  const pc = figures["1000-per-cycle"];
  if (pc) {
    summary.push(
      ["N=1000 peak RSS, connection: per-cycle", mb(pc.rssMax), `persistent ${mb(big.rssMax)}; plain HTTP server ${mb(big.base.rssMax)}`, ratio(pc.rssMax, big.base.rssMax), "≤ 200 MB", verdict(pc.rssMax / 1024, 200)],
      ["N=1000 CPU, connection: per-cycle", `${pc.cpuPct.toFixed(1)} % of a core`, `plain HTTP server ${big.base.cpuPct.toFixed(1)} %`, ratio(pc.cpuPct, big.base.cpuPct), "≤ 5 %", verdict(pc.cpuPct, 5)],
      ["N=1000 CPU, probing alone, connection: per-cycle", `${pc.idle.cpuPct.toFixed(1)} % of a core`, `persistent ${big.idle.cpuPct.toFixed(1)} %`, "—", "—", "—"],
      ["N=1000 CPU, Prometheus-style, connection: per-cycle", `${pc.prom.cpuPct.toFixed(1)} % of a core`, `persistent ${big.prom.cpuPct.toFixed(1)} %; plain HTTP server ${big.prom.base.cpuPct.toFixed(1)} %`, ratio(pc.prom.cpuPct, big.prom.base.cpuPct), "≤ 5 %", verdict(pc.prom.cpuPct, 5)],
      ["N=1000 peak RSS, Prometheus-style, connection: per-cycle", mb(pc.prom.rssMax), `persistent ${mb(big.prom.rssMax)}; plain HTTP server ${mb(big.prom.base.rssMax)}`, ratio(pc.prom.rssMax, big.prom.base.rssMax), "≤ 200 MB", verdict(pc.prom.rssMax / 1024, 200)],
      ["N=1000 /metrics p99, connection: per-cycle", ms(pc.scrape.p99, 2), `plain HTTP server, same body ${ms(big.base.scrape.p99, 2)}`, ratio(pc.scrape.p99, big.base.scrape.p99), "≤ 50 ms", verdict(pc.scrape.p99, 50)],
      ["connections held (pg / mariadb), per-cycle", `${pc.pgConn} / ${pc.myConn}`, `targets ${pc.pgTargets} / ${pc.myTargets}`, "—", "none between cycles", "—"],
    );
  }
  return {
    title: `3. Scale (one daemon, 15 s interval, 100 rps on /metrics for ${window} s; targets pg/mariadb/sqlite)`,
    header: ["N", "pg/my/lite", "CPU", "CPU base", "peak RSS", "RSS base", "RSS ratio", "ELD p50/p99", "scrape p50/p99", "base p50/p99", "p99 ratio", "/metrics", "conns pg/my", "1st cycle"],
    rows,
    summary,
    notes,
    figures,
  };
}

runAsScript(import.meta.url, run);
