import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "./__fixtures__/cli-path.js";

// The built CLI (the bundled SQLite driver, its check worker started from text) with a SQLite
// check that runs for seconds under a 100 ms timeout. On the main thread it held every target
// and every HTTP answer until it returned (/metrics took 7–11 s); in its worker it costs its own
// target a timeout and nothing else.
type Db = { exec(sql: string): void; prepare(sql: string): { pluck(): { get(): unknown } }; close(): void };
const Database = createRequire(createRequire(import.meta.url).resolve("@alfred/db-health-driver-sqlite/package.json"))("better-sqlite3") as new (path: string, o?: object) => Db;

const SLOW = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000000) SELECT count(*) FROM c";
const dir = mkdtempSync(join(tmpdir(), "dbh-slow-check-e2e-"));
const config = join(dir, "healthcheck.yaml");
const env = { ...process.env, DB_HEALTH_DSN: "", DB_HEALTH_CONFIG: "" };
/** How long the slow statement runs here, measured once on this thread. */
let slowMs = 0;

beforeAll(() => {
  for (const name of ["app", "other"]) {
    const d = new Database(join(dir, `${name}.db`));
    d.exec("CREATE TABLE jobs (id INTEGER PRIMARY KEY, state TEXT NOT NULL); INSERT INTO jobs (state) VALUES ('queued'), ('queued'), ('done')");
    if (name === "app") {
      const t0 = performance.now();
      d.prepare(SLOW).pluck().get();
      slowMs = performance.now() - t0;
    }
    d.close();
  }
  writeFileSync(
    config,
    `defaults:
  interval: 1s
targets:
  - name: app
    dsn: file:${join(dir, "app.db")}
    checks:
      - name: backlog
        query: SELECT count(*) FROM jobs WHERE state = 'queued'
      - name: slow
        query: ${SLOW}
        timeout: 100ms
  - name: other
    dsn: file:${join(dir, "other.db")}
`,
    { mode: 0o600 },
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A check that never ends: SQLite cannot interrupt it, and a worker thread cannot be stopped in it. */
const ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
function endlessConfig(): string {
  const file = join(dir, "endless.yaml");
  writeFileSync(file, `targets:\n  - name: app\n    dsn: file:${join(dir, "app.db")}\n    checks:\n      - name: endless\n        query: ${ENDLESS}\n        timeout: 300ms\n`, { mode: 0o600 });
  return file;
}
/** The check processes (the SQLite driver's, running its host code) whose parent is `pid`. */
function checkProcessesOf(pid: number): number[] {
  return readdirSync("/proc").filter((e) => {
    if (!/^\d+$/.test(e)) return false;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid && readFileSync(`/proc/${e}/cmdline`, "utf8").includes("hostMain");
    } catch {
      return false;
    }
  }).map(Number);
}
/** Whether `pid` still runs (a zombie does not). */
const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
async function until(what: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !what() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
}

let daemon: ChildProcess | undefined;
afterEach(() => daemon?.kill("SIGKILL"));

describe("a slow SQLite check end to end", () => {
  it("--once: the slow check times out, the fast one before it passes, the other target is up", () => {
    const run = spawnSync(process.execPath, [CLI, "--once", "--format", "json", "--config", config, "--degraded-ok"], { encoding: "utf8", timeout: 60_000, env });
    expect(run.status, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as { status: string; targets: Array<{ target: string; status: string; checks?: Array<{ name: string; ok: boolean; value?: number; error?: string }> }> };
    expect(doc.status).toBe("degraded");
    const app = doc.targets.find((t) => t.target === "app")!;
    expect(app.checks?.map(({ name, ok, value, error }) => ({ name, ok, value, error }))).toEqual([
      { name: "backlog", ok: true, value: 2, error: undefined },
      { name: "slow", ok: false, value: undefined, error: "timed out after 100ms" },
    ]);
    expect(doc.targets.find((t) => t.target === "other")?.status).toBe("up");
  });

  it("--once ends at its check's timeout when the check would never end, and leaves no process behind", async () => {
    const once = spawn(process.execPath, [CLI, "--once", "--config", endlessConfig()], { stdio: ["ignore", "pipe", "pipe"], env });
    let out = "";
    once.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    const code = new Promise<number | null>((resolve) => once.once("exit", (c) => resolve(c)));
    let hosts: number[] = [];
    await until(() => (hosts = checkProcessesOf(once.pid!)).length > 0 || once.exitCode !== null, 20_000);
    // Before, the process never exited: Node's exit waits for the worker thread running the statement.
    const exited = await Promise.race([code, new Promise<"hung">((r) => setTimeout(() => r("hung"), 20_000))]);
    if (exited === "hung") once.kill("SIGKILL");
    expect(exited, out).toBe(1);
    expect(out).toMatch(/check endless: timed out after 300ms/);
    expect(hosts, "the check ran in a process of its own").toHaveLength(1);
    await until(() => !alive(hosts[0]!), 5000);
    expect(alive(hosts[0]!), "the check process is gone").toBe(false);
  });

  it("the daemon stops on SIGTERM (exit 0) while a check that never ends runs, and leaves no process behind", async () => {
    daemon = spawn(process.execPath, [CLI, "--export-prom", "127.0.0.1:0", "--interval", "1s", "--config", endlessConfig()], { stdio: ["ignore", "pipe", "pipe"], env });
    let logs = "";
    daemon.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
    const code = new Promise<number | null>((resolve) => daemon!.once("exit", (c) => resolve(c)));
    await until(() => logs.includes("check endless: timed out after 300ms"), 20_000);
    expect(logs).toContain("check endless: timed out after 300ms");
    // The next cycle's run of it, under way: stop the daemon in the middle of it.
    let hosts: number[] = [];
    await until(() => (hosts = checkProcessesOf(daemon!.pid!)).length > 0, 5000);
    daemon.kill("SIGTERM");
    const exited = await Promise.race([code, new Promise<"hung">((r) => setTimeout(() => r("hung"), 20_000))]);
    expect(exited, logs).toBe(0);
    for (const pid of hosts) await until(() => !alive(pid), 5000);
    expect(hosts.filter(alive), "check processes left").toEqual([]);
  });

  it("the daemon answers /metrics at once while slow checks run, cycle after cycle", async () => {
    daemon = spawn(process.execPath, [CLI, "--export-prom", "127.0.0.1:0", "--config", config], { stdio: ["ignore", "pipe", "pipe"], env });
    let logs = "";
    daemon.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
    const giveUpAt = Date.now() + 20_000;
    let base: string | undefined;
    while (Date.now() < giveUpAt && !(base && logs.includes("check slow: timed out after 100ms"))) {
      base = /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(logs)?.[1];
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(base, logs).toBeDefined();
    expect(logs).toContain("check slow: timed out after 100ms");
    // For as long as the slow statement runs (once more), scrape again and again: with a 1 s
    // interval a slow check is running (or stopped, still running in its thread) all the while.
    let worst = 0;
    let last = "";
    let answers = 0;
    const end = performance.now() + slowMs;
    while (performance.now() < end) {
      const t0 = performance.now();
      last = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(30_000) })).text();
      worst = Math.max(worst, performance.now() - t0);
      answers++;
      await new Promise((r) => setTimeout(r, 50));
    }
    // Blocked, one scrape waited for the whole statement (and more); here none comes near it.
    expect(worst, `worst /metrics of ${answers}, the slow statement runs ${Math.round(slowMs)} ms`).toBeLessThan(slowMs / 2);
    const L = (target: string): string => `db_name="sqlite",db_role="primary",target="${target}"`;
    expect(last).toContain(`db_up{${L("other")}} 1`);
    expect(last).toContain(`db_check_value{${L("app")},check="backlog"} 2`);
    expect(last).toContain(`db_check_up{${L("app")},check="slow"} 0`);
  });
});
