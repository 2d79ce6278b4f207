// 6. Memory and /metrics bytes per target: one daemon probing one server target, then one
// probing 100 (PostgreSQL and MariaDB databases on the shared servers, half each, as many as
// max_connections leaves), interleaved, each for the same window at a 5 s interval with a
// gzip scrape of /metrics every 5 s. Per target = (figure with 100 − figure with 1) / 99, for
// RSS (from /proc), the JS heap and the memory outside it (process.memoryUsage() from the
// preloaded bench/lib/eld-probe.mjs) and the /metrics body. Databases and processes are removed
// at the end, also on ^C.
// DB_HEALTH_BENCH_BASELINE_CLI=path/to/another/dist/cli.(c)js adds `baseline:` rows: the same
// 1- and 100-target daemons run from that CLI, interleaved with this one's, in the same window.
// Usage (after pnpm build): node bench/memory.mjs [--quick] [--json FILE]
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { onCleanup } from "./lib/cleanup.mjs";
import { procStats, sleep, startProcess } from "./lib/proc.mjs";
import { runAsScript, verdict } from "./lib/section.mjs";
import { connectionBudget, dsnFor, freePort, myAdmin, pgAdmin, SHARED } from "./lib/servers.mjs";
import { mb, median, progress } from "./lib/stats.mjs";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const cli = here("../apps/healthcheck/dist/cli.cjs");
const baselineCli = process.env.DB_HEALTH_BENCH_BASELINE_CLI || undefined;
const kb = (v) => `${v.toFixed(0)} KB`;

/** One daemon over `targets` for `seconds`; RSS and memoryUsage() of the window's second half. */
async function measureDaemon(dir, key, targets, seconds, args = [], entry = cli) {
  const config = join(dir, `memory-${key}.yaml`);
  writeFileSync(config, JSON.stringify({ defaults: { interval: "5s" }, targets })); // JSON is YAML
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/metrics`;
  const probe = join(dir, `eld-${key}.jsonl`);
  const upCount = async () => ((await (await fetch(url)).text()).match(/^db_up\{[^}]*\} 1$/gm) ?? []).length;
  const daemon = await startProcess(
    `daemon ${key}`,
    ["--import", here("./lib/eld-probe.mjs"), entry, "--config", config, "--export-prom", `127.0.0.1:${port}`, "--log-level", "warn", ...args],
    { BENCH_ELD_FILE: probe, ...(process.env.BENCH_HEAP_SNAPSHOT ? { BENCH_HEAP_SNAPSHOT: `${process.env.BENCH_HEAP_SNAPSHOT}-${key}.heapsnapshot` } : {}) },
    async () => (await upCount()) === targets.length,
    120_000,
  );
  const start = Date.now();
  const rss = [];
  while (Date.now() - start < seconds * 1000) {
    // A scrape every 5 s as Prometheus sends it; RSS every 0.5 s.
    if (rss.length % 10 === 0) await (await fetch(url, { headers: { "accept-encoding": "gzip" } })).arrayBuffer();
    const st = procStats(daemon.child.pid);
    rss.push({ t: Date.now(), kb: st.rss, cpu: st.cpu });
    await sleep(500);
  }
  // The window ends here: the probe's lines after it (the 8 s around a heap snapshot, whose full
  // GC also shrinks the young generation, and the stop) are not the daemon at work.
  const end = Date.now();
  const body = await (await fetch(url, { headers: { "accept-encoding": "identity" } })).text();
  if (process.env.BENCH_HEAP_SNAPSHOT) {
    daemon.child.kill("SIGUSR2");
    await sleep(8000);
  }
  await daemon.stop();
  const half = start + (seconds * 1000) / 2;
  const lines = existsSync(probe) ? readFileSync(probe, "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((l) => l.t >= half && l.t <= end) : [];
  const mid = (k) => median(lines.map((l) => l[k]));
  const second = rss.filter((s) => s.t >= half);
  const cpuShare = second.length > 1 ? (second.at(-1).cpu - second[0].cpu) / ((second.at(-1).t - second[0].t) / 1000) : NaN;
  return {
    rss: median(second.map((s) => s.kb)),
    cpu: cpuShare * 100,
    rssMax: Math.max(...rss.map((s) => s.kb)),
    heapUsed: mid("heapUsed"),
    heapTotal: mid("heapTotal"),
    external: mid("external"),
    arrayBuffers: mid("arrayBuffers"),
    newSpace: mid("newSpace"),
    bodyBytes: body.length,
    histogramBytes: body.split("\n").filter((l) => l.startsWith("db_probe_duration_seconds_")).join("\n").length,
  };
}

export async function run({ quick }) {
  const seconds = quick ? 15 : 40;
  const rounds = quick ? 1 : 2;
  const dir = mkdtempSync(join(tmpdir(), "dbh-bench-memory-"));
  onCleanup("memory temp dir", () => rmSync(dir, { recursive: true, force: true }));
  const tag = `dbh_bench_mem_${process.pid}`;
  const pgA = await pgAdmin();
  const myA = await myAdmin();
  const pgB = await connectionBudget("postgres", pgA, 20);
  const myB = await connectionBudget("mysql", myA, 20);
  const pgCount = Math.min(50, pgB.budget);
  const myCount = Math.min(100 - pgCount, myB.budget);
  const n = pgCount + myCount;
  const pgDbs = Array.from({ length: pgCount }, (_, i) => `${tag}_${i}`);
  const myDbs = Array.from({ length: myCount }, (_, i) => `${tag}_${i}`);
  onCleanup("memory databases", async () => {
    for (const db of pgDbs) await pgA.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => undefined);
    for (const db of myDbs) await myA.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
  });
  progress(`memory: creating ${pgCount} PostgreSQL and ${myCount} MariaDB databases`);
  for (const db of pgDbs) await pgA.query(`CREATE DATABASE "${db}" TEMPLATE template0`);
  for (const db of myDbs) await myA.query(`CREATE DATABASE \`${db}\``);
  const all = [
    ...pgDbs.map((db, i) => ({ name: `pg-${i}`, dsn: dsnFor.postgres(SHARED.postgres, db) })),
    ...myDbs.map((db, i) => ({ name: `my-${i}`, dsn: dsnFor.mysql(SHARED.mysql, db) })),
  ];
  // Interleaved: 1, n, 1, n… so that drift on the shared machine falls on both.
  const runs = { 1: [], [n]: [] };
  const baseRuns = { 1: [], [n]: [] };
  for (let r = 0; r < rounds; r++) {
    for (const size of [1, n]) {
      progress(`memory: round ${r + 1}/${rounds}, ${size} server target${size > 1 ? "s" : ""}, ${seconds} s`);
      runs[size].push(await measureDaemon(dir, `${size}-${r}`, all.slice(0, size), seconds));
      if (!baselineCli) continue;
      progress(`memory: round ${r + 1}/${rounds}, baseline CLI, ${size} server target${size > 1 ? "s" : ""}, ${seconds} s`);
      baseRuns[size].push(await measureDaemon(dir, `${size}-${r}-baseline`, all.slice(0, size), seconds, [], baselineCli));
    }
  }
  // The body with the fine buckets (--duration-buckets fine, the fourteen bounds of before), for
  // the same targets: bytes only, so a short window.
  const fine = {};
  for (const size of [1, n]) {
    progress(`memory: /metrics with --duration-buckets fine, ${size} server target${size > 1 ? "s" : ""}`);
    fine[size] = await measureDaemon(dir, `${size}-fine`, all.slice(0, size), 2, ["--duration-buckets", "fine"]);
  }
  const finePer = (k) => (fine[n][k] - fine[1][k]) / (n - 1);
  const figOf = (set) => (size, k) => median(set[size].map((x) => x[k]));
  const perOf = (set) => (k) => (figOf(set)(n, k) - figOf(set)(1, k)) / (n - 1);
  const fig = figOf(runs);
  const per = perOf(runs);
  const tableRows = (set, label) => {
    const f = figOf(set);
    const p = perOf(set);
    const out = [1, n].map((size) => [
      `${label}${size}`, size === 1 ? "1/0" : `${pgCount}/${myCount}`, mb(f(size, "rss")), mb(f(size, "rssMax")), mb(f(size, "heapUsed")), mb(f(size, "heapTotal")), mb(f(size, "newSpace")), mb(f(size, "external")), `${f(size, "cpu").toFixed(2)} %`,
      `${(f(size, "bodyBytes") / 1024).toFixed(1)} KB`, `${(f(size, "histogramBytes") / 1024).toFixed(1)} KB`,
    ]);
    out.push([
      `${label}per target`, "—", kb(p("rss")), kb(p("rssMax")), kb(p("heapUsed")), kb(p("heapTotal")), kb(p("newSpace")), kb(p("external")), `${(p("cpu") * 1000).toFixed(1)} m%`, `${(p("bodyBytes") / 1024).toFixed(2)} KB`, `${(p("histogramBytes") / 1024).toFixed(2)} KB`,
    ]);
    return out;
  };
  const rows = [...tableRows(runs, ""), ...(baselineCli ? tableRows(baseRuns, "baseline: ") : [])];
  const summary = [
    baselineCli
      ? [`memory per server target (RSS, (${n} − 1) / ${n - 1})`, kb(per("rss")), `baseline CLI ${kb(perOf(baseRuns)("rss"))}; RSS 1 target ${mb(fig(1, "rss"))}, ${n} targets ${mb(fig(n, "rss"))}`, `${(per("rss") / perOf(baseRuns)("rss")).toFixed(2)}x`, "≤ 300 KB", verdict(per("rss"), 300)]
      : [`memory per server target (RSS, (${n} − 1) / ${n - 1})`, kb(per("rss")), `RSS 1 target ${mb(fig(1, "rss"))}, ${n} targets ${mb(fig(n, "rss"))}`, "—", "≤ 300 KB", verdict(per("rss"), 300)],
    ...(baselineCli
      ? [[`daemon CPU with ${n} server targets (5 s interval)`, `${fig(n, "cpu").toFixed(2)} %`, `baseline CLI ${figOf(baseRuns)(n, "cpu").toFixed(2)} %`, `${(fig(n, "cpu") / figOf(baseRuns)(n, "cpu")).toFixed(2)}x`, "—", "—"]]
      : []),
    ["JS heap per server target", kb(per("heapUsed")), `heap 1 target ${mb(fig(1, "heapUsed"))}`, "—", "—", "—"],
    ["/metrics bytes per target (daemon, default buckets)", `${(per("bodyBytes") / 1024).toFixed(2)} KB`, `of it db_probe_duration_seconds ${(per("histogramBytes") / 1024).toFixed(2)} KB; --duration-buckets fine ${(finePer("bodyBytes") / 1024).toFixed(2)} KB`, `${(per("bodyBytes") / finePer("bodyBytes")).toFixed(2)}× fine`, "≤ 3 KB", verdict(per("bodyBytes") / 1024, 3)],
  ];
  return {
    title: `6. Memory and /metrics bytes per target (1 vs ${n} server targets, 5 s interval, ${seconds} s per daemon, ${rounds} round${rounds > 1 ? "s" : ""} interleaved; medians of the window's second half)`,
    header: ["targets", "pg/my", "RSS", "RSS max", "JS heap used", "JS heap total", "of it young gen.", "external", "CPU", "/metrics", "of it histogram"],
    rows,
    summary,
    notes: [
      `PostgreSQL max_connections ${pgB.max} (${pgB.used} in use at start), MariaDB ${myB.max} (${myB.used} in use): ${pgCount} + ${myCount} server targets`,
      "external: memory outside the JS heap that V8 knows of (Buffers and the like); RSS also holds code, the allocator's free lists and what was freed but not returned to the system",
      "young gen.: V8's new space (two semi-spaces). Left alone, 100 targets' start-up grows it to 32 MB (16 MB semi-spaces) where 1 target's stays at 1 MB, ≈ 300 KB of RSS per target; the daemon now keeps it at its start size (run-cli.ts, capHeapGrowth)",
      "CPU: the daemon's CPU time over the window's second half, in % of one core (per target: thousandths of a percent)",
      ...(baselineCli ? [`baseline: ${baselineCli}, its daemons interleaved with these in the same rounds`] : []),
    ],
    figures: { runs, ...(baselineCli ? { baseRuns, baselinePerTarget: { rss: perOf(baseRuns)("rss"), heapTotal: perOf(baseRuns)("heapTotal"), newSpace: perOf(baseRuns)("newSpace") } } : {}), n, perTarget: { rss: per("rss"), rssMax: per("rssMax"), heapUsed: per("heapUsed"), heapTotal: per("heapTotal"), external: per("external"), body: per("bodyBytes"), histogram: per("histogramBytes"), fineBody: finePer("bodyBytes"), fineHistogram: finePer("histogramBytes") } },
  };
}

runAsScript(import.meta.url, run);
