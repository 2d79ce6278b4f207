import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "@alfred/db-health-testkit";
import { startCluster, type PgCluster } from "../../packages/driver-postgres/src/__fixtures__/pg-cluster.js";

// A real Prometheus (Debian's package) scraping a real healthcheck daemon that probes a
// throwaway PostgreSQL, with the project's alert rules loaded: the whole loop, on loopback.
const PROMETHEUS = process.env.PROMETHEUS ?? "/usr/bin/prometheus";
const CLI = fileURLToPath(new URL("../../apps/healthcheck/dist/cli.js", import.meta.url));
const RULES = fileURLToPath(new URL("../prometheus/rules/database_alerts.yml", import.meta.url));
const have = existsSync(PROMETHEUS);
if (!have && !process.env.CI) console.log(`prometheus-live: skipped, ${PROMETHEUS} is not installed (apt-get install prometheus); CI installs it`);

const dir = mkdtempSync(join(tmpdir(), "dbh-prom-"));
let cluster: PgCluster | undefined;
let daemon: ChildProcess | undefined;
let prometheus: ChildProcess | undefined;
let api = "";
let logs = "";

const spawnLogged = (cmd: string, args: string[]): ChildProcess => {
  const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  p.stdout!.on("data", (b: Buffer) => (logs += b.toString()));
  p.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
  return p;
};
// Polls Prometheus, and shows the processes' logs when it gives up.
const until = <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> =>
  waitFor(what, read, ok, 60_000, 250).catch((err: Error) => {
    throw new Error(`${err.message}\n${logs.slice(-3000)}`);
  });
const query = async (promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
  const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`).catch(() => undefined);
  if (!res?.ok) return [];
  return ((await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
};
const alerts = async (): Promise<Array<{ labels: Record<string, string>; state: string }>> => {
  const res = await fetch(`${api}/api/v1/alerts`).catch(() => undefined);
  if (!res?.ok) return [];
  return ((await res.json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } }).data.alerts;
};

describe.skipIf(!have && !process.env.CI)("a real Prometheus scraping healthcheck", () => {
  beforeAll(async () => {
    if (!have) throw new Error(`${PROMETHEUS} not found: .ci/run installs Debian's prometheus package`);
    cluster = await startCluster();
    const hcPort = await freePort();
    daemon = spawnLogged(process.execPath, [CLI, "--export-prom", `127.0.0.1:${hcPort}`, "--interval", "500ms", "--connect-timeout", "1s", "--read-timeout", "1s",
      "--max-retries", "0", "--dsn", cluster.dsn(), "--name", "pg"]);
    const promPort = await freePort();
    api = `http://127.0.0.1:${promPort}`;
    writeFileSync(join(dir, "prometheus.yml"), [
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      `rule_files: [${JSON.stringify(RULES)}]`,
      "scrape_configs:",
      "  - job_name: db-health",
      `    static_configs: [{ targets: ["127.0.0.1:${hcPort}"] }]`,
      "  - job_name: db-health-probe",
      "    metrics_path: /probe",
      `    static_configs: [{ targets: ["pg"] }]`,
      "    relabel_configs:",
      "      - { source_labels: [__address__], target_label: __param_target }",
      "      - { source_labels: [__param_target], target_label: instance }",
      `      - { target_label: __address__, replacement: "127.0.0.1:${hcPort}" }`,
      "",
    ].join("\n"));
    prometheus = spawnLogged(PROMETHEUS, [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${promPort}`, "--log.level=warn"]);
  }, 120_000);
  afterAll(async () => {
    prometheus?.kill("SIGTERM");
    daemon?.kill("SIGTERM");
    await cluster?.destroy();
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dir, { recursive: true, force: true });
  });

  it("sees db_up 1 through /metrics and /probe, then 0 and DatabaseDown pending when PostgreSQL stops", async () => {
    await until("db_up 1 from /metrics", () => query('db_up{job="db-health",target="pg"}'), (r) => r[0]?.value[1] === "1");
    await until("db_up 1 from /probe", () => query('db_up{job="db-health-probe",instance="pg"}'), (r) => r[0]?.value[1] === "1");
    await cluster!.stop("fast");
    const down = await until("db_up 0", () => query('db_up{job="db-health",target="pg"}'), (r) => r[0]?.value[1] === "0");
    expect(down[0]!.metric).toMatchObject({ db_name: "postgres", target: "pg" });
    const pending = await until("DatabaseDown pending", () => alerts(), (a) => a.some((x) => x.labels.alertname === "DatabaseDown" && x.labels.target === "pg"));
    expect(pending.find((x) => x.labels.alertname === "DatabaseDown")!.state).toBe("pending");
    // What Prometheus answered, for the record (CI log).
    console.log(`prometheus query db_up: ${JSON.stringify(down)}`);
    console.log(`prometheus alerts: ${JSON.stringify(pending.filter((x) => x.labels.alertname === "DatabaseDown"))}`);
  }, 120_000);
});
