import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@alfred/db-health-testkit";
import { fdCount, myAdmin, pgAdmin } from "./matrix/machine.js";
import { writeReport } from "./matrix/record.js";

// The bounded soak: one real daemon probing 10 PostgreSQL, 10 MariaDB and 10 SQLite targets at
// the shortest interval (100 ms) until DB_HEALTH_SOAK_CYCLES cycles (default 20,000, about a
// minute here) have run, sampling its RSS and open descriptors and the sessions each server holds
// for it. `pnpm --filter @alfred/db-health-faults soak` runs the long version (200,000 cycles).
const CLI = fileURLToPath(new URL("../../../apps/healthcheck/dist/cli.cjs", import.meta.url));
const CYCLES = Number(process.env["DB_HEALTH_SOAK_CYCLES"] ?? 20_000);
const PER_ENGINE = 10;
/** RSS may grow by at most this much between the sample at 10 % of the cycles and the end */
const RSS_TOLERANCE_MB = 20;
/** the live heap after a full collection may grow by at most this much over the soak */
const HEAP_TOLERANCE_MB = 3;
// V8 collects lazily: with the default heap limit RSS climbs for a minute and falls back, which
// hides a leak and makes RSS a coin toss. A 64 MB old space forces a full collection every few
// seconds; --trace-gc reports the live heap after each one. A leak then shows as a rising live
// heap (and in the end as an out-of-memory exit), and RSS becomes a meaningful flat line.
const NODE_FLAGS = ["--max-old-space-size=64", "--trace-gc"];
const NAME = `soak_${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), "dbh-soak-"));
const SQLITE = join(dir, "soak.db");
let daemon: ChildProcess;
let logs = "";
let address: string | undefined;
const liveAfterGc: Array<{ atMs: number; mb: number }> = [];

interface Sample {
  atS: number;
  cycles: number;
  rssMb: number;
  fds: number;
  pgSessions: number;
  mariadbSessions: number;
}

const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

beforeAll(async () => {
  await pgAdmin(`DROP DATABASE IF EXISTS ${NAME}`);
  await pgAdmin(`CREATE DATABASE ${NAME}`);
  await myAdmin(`DROP DATABASE IF EXISTS ${NAME}`);
  await myAdmin(`CREATE DATABASE ${NAME}`);
  await myAdmin("DROP USER IF EXISTS ?@'127.0.0.1'", [NAME]);
  await myAdmin("CREATE USER ?@'127.0.0.1'", [NAME]);
  await myAdmin(`GRANT ALL ON ${NAME}.* TO ?@'127.0.0.1'`, [NAME]);
  const targets = [
    ...Array.from({ length: PER_ENGINE }, (_, i) => ({ name: `pg-${i}`, dsn: `postgres://postgres@127.0.0.1:5432/${NAME}` })),
    ...Array.from({ length: PER_ENGINE }, (_, i) => ({ name: `mariadb-${i}`, dsn: `mysql://${NAME}@tcp(127.0.0.1:3306)/${NAME}` })),
    ...Array.from({ length: PER_ENGINE }, (_, i) => ({ name: `sqlite-${i}`, dsn: `file:${SQLITE}?mode=rwc` })),
  ];
  const config = join(dir, "soak.yaml");
  writeFileSync(config, `defaults:\n  interval: 100ms\n  maxRetries: 0\ntargets:\n${targets.map((t) => `  - name: ${t.name}\n    dsn: ${JSON.stringify(t.dsn)}\n`).join("")}`, { mode: 0o600 });
  daemon = spawn(process.execPath, [...NODE_FLAGS, CLI, "--config", config, "--export-prom", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
  let pending = "";
  daemon.stdout!.on("data", (b: Buffer) => {
    // --trace-gc lines: "... Mark-Compact 39.6 (61.9) -> 23.6 (61.9) MB, ..."
    const lines = (pending + b.toString()).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const m = /Mark-Compact [\d.]+ \([\d.]+\) -> ([\d.]+) \(/.exec(line);
      if (m) liveAfterGc.push({ atMs: performance.now(), mb: Number(m[1]) });
    }
  });
  daemon.stderr!.on("data", (b: Buffer) => {
    logs = (logs + b.toString()).slice(-20_000);
    address ??= /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(logs)?.[1];
  });
}, 60_000);

afterAll(async () => {
  daemon?.kill("SIGTERM");
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) await new Promise((resolve) => daemon.once("exit", resolve));
  await pgAdmin(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`).catch(() => undefined);
  await myAdmin(`DROP DATABASE IF EXISTS ${NAME}`).catch(() => undefined);
  await myAdmin("DROP USER IF EXISTS ?@'127.0.0.1'", [NAME]).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** completed cycles: every cycle pings once, so the ping histogram's counts add up to them */
const cyclesFrom = (metrics: string): number =>
  [...metrics.matchAll(/^db_probe_duration_seconds_count\{[^}]*phase="ping"[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);

describe("soak", () => {
  it(`runs ${CYCLES.toLocaleString("en")} cycles across 30 targets with flat RSS, descriptors and sessions, one health row per prober`, async () => {
    const url = await waitFor("the daemon's address", async () => address, (a) => a !== undefined, 20_000);
    const pid = daemon.pid!;
    const samples: Sample[] = [];
    const t0 = performance.now();
    const sample = async (): Promise<Sample> => {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const [pgRows, myRows] = await Promise.all([
        pgAdmin<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = '${NAME}' AND pid <> pg_backend_pid()`),
        myAdmin("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?", [NAME]),
      ]);
      const s = { atS: (performance.now() - t0) / 1000, cycles: cyclesFrom(metrics), rssMb: rssMb(pid), fds: fdCount(pid), pgSessions: pgRows[0]!.n, mariadbSessions: Number(myRows[0]!["n"]) };
      samples.push(s);
      return s;
    };
    let last = await sample();
    let warm: Sample | undefined;
    while (last.cycles < CYCLES) {
      if (daemon.exitCode !== null || daemon.signalCode !== null) throw new Error(`the daemon exited (${daemon.exitCode ?? daemon.signalCode}): ${logs.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 2_000));
      last = await sample();
      if (!warm && last.cycles >= CYCLES / 10) warm = last;
      if (samples.length % 10 === 0) console.log(`soak: ${last.cycles} cycles, ${last.atS.toFixed(0)} s, RSS ${last.rssMb.toFixed(1)} MB, ${last.fds} fds, sessions pg ${last.pgSessions} / mariadb ${last.mariadbSessions}`);
    }
    const end = last;
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const up = (metrics.match(/^db_up\{[^}]*\} 1$/gm) ?? []).length;
    const pgRows = (await pgAdmin<{ n: number }>("SELECT count(*)::int AS n FROM _health_check", [], NAME))[0]!.n;
    const myRows = Number((await myAdmin(`SELECT COUNT(*) AS n FROM ${NAME}._health_check`))[0]!["n"]);
    const db = new Database(SQLITE, { readonly: true });
    const sqliteRows = db.prepare("SELECT count(*) FROM _health_check").pluck().get() as number;
    db.close();
    const heap = liveAfterGc.filter((g) => g.atMs - t0 >= warm!.atS * 1000).map((g) => g.mb);
    const summary = {
      cycles: end.cycles,
      liveHeapAfterFullGcMb: { first: heap[0], last: heap.at(-1), max: Math.max(...heap), collections: heap.length },
      seconds: Math.round(end.atS),
      rssMb: { warm: +warm!.rssMb.toFixed(1), end: +end.rssMb.toFixed(1), max: +Math.max(...samples.map((s) => s.rssMb)).toFixed(1) },
      fds: { warm: warm!.fds, end: end.fds, max: Math.max(...samples.map((s) => s.fds)) },
      sessions: { pg: [...new Set(samples.slice(1).map((s) => s.pgSessions))], mariadb: [...new Set(samples.slice(1).map((s) => s.mariadbSessions))] },
      healthRows: { postgres: pgRows, mariadb: myRows, sqlite: sqliteRows },
      targetsUp: up,
    };
    console.log(`soak summary: ${JSON.stringify(summary)}`);
    writeReport("soak.json", `${JSON.stringify({ summary, samples }, null, 2)}\n`);

    expect(up).toBe(3 * PER_ENGINE);
    expect(heap.length, "full collections during the soak").toBeGreaterThanOrEqual(2);
    expect(heap.at(-1)! - heap[0]!, `live heap after full GC went from ${heap[0]} to ${heap.at(-1)} MB`).toBeLessThanOrEqual(HEAP_TOLERANCE_MB);
    expect(end.rssMb - warm!.rssMb, `RSS grew from ${warm!.rssMb} to ${end.rssMb} MB`).toBeLessThanOrEqual(RSS_TOLERANCE_MB);
    expect(Math.abs(end.fds - warm!.fds)).toBeLessThanOrEqual(2);
    // One connection per target: exactly at the end, and never more than one off at any sample
    // (a cycle that timed out under load replaces its connection, which a sample may catch).
    expect([end.pgSessions, end.mariadbSessions]).toEqual([PER_ENGINE, PER_ENGINE]);
    for (const n of [...summary.sessions.pg, ...summary.sessions.mariadb]) expect(Math.abs(n - PER_ENGINE)).toBeLessThanOrEqual(1);
    expect(summary.healthRows).toEqual({ postgres: PER_ENGINE, mariadb: PER_ENGINE, sqlite: PER_ENGINE });
  }, Math.max(300_000, CYCLES * 20));
});
