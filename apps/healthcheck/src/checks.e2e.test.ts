import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "./__fixtures__/cli-path.js";

// The built CLI with custom checks on a real SQLite file: a passing check, a failing bound and a
// writing statement that is refused and changes nothing.
type Db = { exec(sql: string): void; prepare(sql: string): { pluck(): { get(): unknown } }; close(): void };
const Database = createRequire(createRequire(import.meta.url).resolve("@alfred/db-health-driver-sqlite/package.json"))("better-sqlite3") as new (path: string, o?: object) => Db;

const dir = mkdtempSync(join(tmpdir(), "dbh-checks-e2e-"));
const db = join(dir, "app.db");
const config = join(dir, "healthcheck.yaml");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, DB_HEALTH_DSN: "", DB_HEALTH_CONFIG: "" };
const jobs = (): number => {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare("SELECT count(*) FROM jobs").pluck().get() as number;
  } finally {
    d.close();
  }
};

beforeAll(() => {
  const d = new Database(db);
  d.exec("CREATE TABLE jobs (id INTEGER PRIMARY KEY, state TEXT NOT NULL); INSERT INTO jobs (state) VALUES ('queued'), ('queued'), ('done')");
  d.close();
  writeFileSync(
    config,
    `targets:
  - name: app
    dsn: file:${db}
    checks:
      - name: backlog
        query: SELECT count(*) FROM jobs WHERE state = 'queued'
        max: 1000
        min: 0
        timeout: 2s
      - name: done_jobs
        query: SELECT count(*) FROM jobs WHERE state = 'done'
        min: 5
      - name: purge
        query: DELETE FROM jobs
`,
    { mode: 0o600 },
  );
});

let daemon: ChildProcess | undefined;
afterEach(() => daemon?.kill("SIGKILL"));

describe("custom checks end to end", () => {
  it("--once: exit 1 (degraded), each check in the table and in the JSON, the writing check refused", () => {
    const text = spawnSync(process.execPath, [CLI, "--once", "--config", config], { encoding: "utf8", timeout: 30_000, env });
    expect(text.status).toBe(1);
    const lines = text.stdout.split("\n");
    expect(lines[1]).toMatch(/^app\s+sqlite\s+primary\s+DEGRADED\s.*\scheck done_jobs: 1 < min 5$/);
    expect(lines).toContainEqual(expect.stringMatching(/^TARGET\s+CHECK\s+OK\s+VALUE\s+MS\s+REASON$/));
    expect(lines).toContainEqual(expect.stringMatching(/^app\s+backlog\s+ok\s+2\s+[\d.]+$/));
    expect(lines).toContainEqual(expect.stringMatching(/^app\s+done_jobs\s+FAIL\s+1\s+[\d.]+\s+1 < min 5$/));
    expect(lines).toContainEqual(expect.stringMatching(/^app\s+purge\s+FAIL\s+-\s+[\d.]+\s+check refused: the statement writes/));

    const json = spawnSync(process.execPath, [CLI, "--once", "--format", "json", "--config", config, "--degraded-ok"], { encoding: "utf8", timeout: 30_000, env });
    expect(json.status).toBe(0);
    const doc = JSON.parse(json.stdout) as { status: string; targets: Array<{ problems: string[]; checks: Array<{ name: string; ok: boolean; value?: number; error?: string }> }> };
    expect(doc.status).toBe("degraded");
    expect(doc.targets[0]!.checks.map(({ name, ok, value, error }) => ({ name, ok, value, error }))).toEqual([
      { name: "backlog", ok: true, value: 2, error: undefined },
      { name: "done_jobs", ok: false, value: 1, error: "1 < min 5" },
      { name: "purge", ok: false, value: undefined, error: expect.stringMatching(/^check refused: the statement writes/) },
    ]);
    expect(doc.targets[0]!.problems).toEqual(["check done_jobs: 1 < min 5", expect.stringMatching(/^check purge: check refused: the statement writes/)]);
    expect(jobs()).toBe(3);
  });

  it("the daemon exports db_check_* on /metrics and each check in /health and its logs", async () => {
    daemon = spawn(process.execPath, [CLI, "--export-prom", "127.0.0.1:0", "--config", config], { stdio: ["ignore", "pipe", "pipe"], env });
    let logs = "";
    daemon.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
    const deadline = Date.now() + 20_000;
    let base: string | undefined;
    while (Date.now() < deadline && !(base && logs.includes('"status":"degraded"'))) {
      base = /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(logs)?.[1];
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(base, logs).toBeDefined();
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const L = 'db_name="sqlite",db_role="primary",target="app"';
    const ours = metrics.split("\n").filter((l) => l.startsWith("db_check_"));
    expect(ours.filter((l) => !l.startsWith("db_check_duration_seconds")).sort()).toEqual(
      [
        `db_check_value{${L},check="backlog"} 2`,
        `db_check_value{${L},check="done_jobs"} 1`,
        `db_check_up{${L},check="backlog"} 1`,
        `db_check_up{${L},check="done_jobs"} 0`,
        `db_check_up{${L},check="purge"} 0`,
      ].sort(),
    );
    for (const check of ["backlog", "done_jobs", "purge"]) expect(ours).toContainEqual(expect.stringMatching(new RegExp(`^db_check_duration_seconds\\{${L},check="${check}"\\} [\\d.e-]+$`)));
    expect(metrics).toContain(`db_status{${L},status="degraded"} 1`);

    const health = (await (await fetch(`${base}/health`)).json()) as { status: string; checks: Record<string, Array<{ check?: string; status: string; observedValue?: number }>> };
    expect(health.status).toBe("warn");
    expect(health.checks["app:checks"]?.map((c) => [c.check, c.status, c.observedValue])).toEqual([
      ["backlog", "pass", 2],
      ["done_jobs", "warn", 1],
      ["purge", "warn", undefined],
    ]);
    const status = logs.split("\n").find((l) => l.includes('"msg":"status"'));
    expect(JSON.parse(status!)).toMatchObject({ status: "degraded", reason: "check done_jobs: 1 < min 5", checks: [{ name: "backlog", ok: true, value: 2 }, { name: "done_jobs", ok: false, value: 1, reason: "1 < min 5" }, { name: "purge", ok: false }] });
    expect(jobs()).toBe(3);
  });
});
