import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blackholeServer, freePort, waitFor, type BlackholeServer } from "@alfred/db-health-testkit";
import { startCluster, type PgCluster } from "@alfred/db-health-test-servers";

// A real Prometheus (Debian's package) scraping real healthcheck daemons that probe throwaway
// PostgreSQL clusters and a listener that accepts and never answers, with the project's alert
// rules loaded: the whole loop, on loopback.
//
// Daemon A: one cluster, a 500 ms interval, scraped on /metrics and /probe.
// Daemon B: Prometheus' side of the contract, with default probe settings and a 30 s interval:
//   "killed", a cluster stopped with `pg_ctl stop -m immediate` and started again, scraped on
//   /metrics; "hung", the silent listener, scraped on /probe with `scrape_timeout: 3s` (a whole
//   cycle against it takes 23 s: 4 connect timeouts of 5 s and 3 retry pauses of 1 s).
const PROMETHEUS = process.env.PROMETHEUS ?? "/usr/bin/prometheus";
const CLI = fileURLToPath(new URL("../../apps/healthcheck/dist/cli.cjs", import.meta.url));
const RULES = fileURLToPath(new URL("../prometheus/rules/database_alerts.yml", import.meta.url));
const have = existsSync(PROMETHEUS);
if (!have && !process.env.CI) console.log(`prometheus-live: skipped, ${PROMETHEUS} is not installed (apt-get install prometheus); CI installs it`);

const dir = mkdtempSync(join(tmpdir(), "dbh-prom-"));
let cluster: PgCluster | undefined;
let killed: PgCluster | undefined;
let hung: BlackholeServer | undefined;
const processes: ChildProcess[] = [];
let api = "";
let daemonB = "";
const logs = { a: "", b: "", prometheus: "" };

const spawnLogged = (name: keyof typeof logs, cmd: string, args: string[]): ChildProcess => {
  const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  processes.push(p);
  p.stdout!.on("data", (b: Buffer) => (logs[name] += b.toString()));
  p.stderr!.on("data", (b: Buffer) => (logs[name] += b.toString()));
  return p;
};
/** Where a daemon serves, from its first log line. */
const served = (name: "a" | "b"): Promise<string> =>
  waitFor(`daemon ${name} listening`, async () => /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(logs[name])?.[1] ?? "", (base) => base !== "", 20_000, 50);
// Polls, and shows the processes' logs when it gives up.
const until = <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000, everyMs = 250): Promise<T> =>
  waitFor(what, read, ok, timeoutMs, everyMs).catch((err: Error) => {
    throw new Error(`${err.message}\n--- daemon A ---\n${logs.a.slice(-1500)}\n--- daemon B ---\n${logs.b.slice(-1500)}\n--- prometheus ---\n${logs.prometheus.slice(-1500)}`);
  });
type Sample = { metric: Record<string, string>; value: [number, string] };
const query = async (promql: string): Promise<Sample[]> => {
  const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`).catch(() => undefined);
  if (!res?.ok) return [];
  return ((await res.json()) as { data: { result: Sample[] } }).data.result;
};
type Alert = { labels: Record<string, string>; state: string };
const alerts = async (): Promise<Alert[]> => {
  const res = await fetch(`${api}/api/v1/alerts`).catch(() => undefined);
  if (!res?.ok) return [];
  return ((await res.json()) as { data: { alerts: Alert[] } }).data.alerts;
};
/** The value of db_up for `target` on daemon B's /metrics, as a scrape would see it now. */
const dbUpOnMetrics = async (target: string): Promise<string | undefined> => {
  const text = await (await fetch(`${daemonB}/metrics`)).text();
  return new RegExp(`^db_up\\{[^}]*target="${target}"[^}]*\\} (\\S+)$`, "m").exec(text)?.[1];
};

describe.skipIf(!have && !process.env.CI)("a real Prometheus scraping healthcheck", () => {
  beforeAll(async () => {
    if (!have) throw new Error(`${PROMETHEUS} not found: .ci/run installs Debian's prometheus package`);
    [cluster, killed, hung] = await Promise.all([startCluster(), startCluster(), blackholeServer()]);
    spawnLogged("a", process.execPath, [CLI, "--export-prom", "127.0.0.1:0", "--interval", "500ms", "--connect-timeout", "1s", "--read-timeout", "1s",
      "--max-retries", "0", "--dsn", cluster.dsn(), "--name", "pg"]);
    // Default deadlines and retries (connect 5 s, 3 retries 1 s apart): the setting.
    spawnLogged("b", process.execPath, [CLI, "--export-prom", "127.0.0.1:0", "--interval", "30s",
      "--dsn", killed.dsn(), "--name", "killed", "--dsn", `postgres://postgres@127.0.0.1:${hung.port}/postgres`, "--name", "hung"]);
    const [a, b] = await Promise.all([served("a"), served("b")]);
    daemonB = b;
    const address = (base: string): string => base.replace(/^http:\/\//, "");
    const promPort = await freePort();
    api = `http://127.0.0.1:${promPort}`;
    const probeJob = (job: string, target: string, base: string, extra: string[] = []): string[] => [
      `  - job_name: ${job}`,
      "    metrics_path: /probe",
      ...extra,
      `    static_configs: [{ targets: ["${target}"] }]`,
      "    relabel_configs:",
      "      - { source_labels: [__address__], target_label: __param_target }",
      "      - { source_labels: [__param_target], target_label: instance }",
      `      - { target_label: __address__, replacement: "${address(base)}" }`,
    ];
    writeFileSync(join(dir, "prometheus.yml"), [
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      `rule_files: [${JSON.stringify(RULES)}]`,
      "scrape_configs:",
      "  - job_name: db-health",
      `    static_configs: [{ targets: ["${address(a)}"] }]`,
      ...probeJob("db-health-probe", "pg", a),
      "  - job_name: db-health-30s",
      `    static_configs: [{ targets: ["${address(b)}"] }]`,
      ...probeJob("db-health-probe-hung", "hung", b, ["    scrape_interval: 5s", "    scrape_timeout: 3s"]),
      "",
    ].join("\n"));
    spawnLogged("prometheus", PROMETHEUS, [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${promPort}`, "--log.level=warn"]);
  }, 120_000);
  afterAll(async () => {
    for (const p of processes) p.kill("SIGTERM");
    await Promise.all([cluster?.destroy(), killed?.destroy(), hung?.close()]);
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dir, { recursive: true, force: true });
  });

  it("sees db_up 1 through /metrics and /probe, then 0 and DatabaseDown pending when PostgreSQL stops", async () => {
    await until("db_up 1 from /metrics", () => query('db_up{job="db-health",target="pg"}'), (r) => r[0]?.value[1] === "1");
    await until("db_up 1 from /probe", () => query('db_up{job="db-health-probe",instance="pg"}'), (r) => r[0]?.value[1] === "1");
    await cluster!.stop("fast");
    const down = await until("db_up 0", () => query('db_up{job="db-health",target="pg"}'), (r) => r[0]?.value[1] === "0");
    expect(down[0]!.metric).toMatchObject({ db_name: "postgres", target: "pg" });
    const mine = (x: Alert): boolean => x.labels.alertname === "DatabaseDown" && x.labels.job === "db-health" && x.labels.target === "pg";
    const pending = await until("DatabaseDown pending", () => alerts(), (a) => a.some(mine));
    expect(pending.find(mine)!.state).toBe("pending");
    // What Prometheus answered, for the record (CI log).
    console.log(`prometheus query db_up: ${JSON.stringify(down)}`);
    console.log(`prometheus alerts: ${JSON.stringify(pending.filter(mine).map(({ labels, state }) => ({ labels, state })))}`);
  }, 120_000);

  it("a hung target behind scrape_timeout: 3s is scraped (up 1) and down (db_up 0): DatabaseDown, not DatabaseExporterAbsent", async () => {
    const job = 'job="db-health-probe-hung"';
    // Two scrapes in a row: the first joins daemon B's own first cycle (23 s), the next ones too
    // or start their own; every one must be answered within the 3 s.
    await until("two scrapes of the hung target", () => query(`count_over_time(up{${job}}[1m])`), (r) => Number(r[0]?.value[1] ?? 0) >= 2);
    const up = await query(`up{${job}}`);
    const dbUp = await query(`db_up{${job},instance="hung"}`);
    const took = await query(`max_over_time(scrape_duration_seconds{${job}}[1m])`);
    expect(up.map((s) => s.value[1])).toEqual(["1"]);
    expect(dbUp.map((s) => [s.metric.target, s.value[1]])).toEqual([["hung", "0"]]);
    expect(Number(took[0]!.value[1])).toBeLessThan(3);
    const list = await until("DatabaseDown for hung", () => alerts(), (a) => a.some((x) => x.labels.alertname === "DatabaseDown" && x.labels.job === "db-health-probe-hung"));
    const down = list.find((x) => x.labels.alertname === "DatabaseDown" && x.labels.job === "db-health-probe-hung")!;
    expect(["pending", "firing"]).toContain(down.state);
    expect(list.filter((x) => x.labels.alertname === "DatabaseExporterAbsent")).toEqual([]);
    console.log(`prometheus up{${job}}: ${JSON.stringify(up)}`);
    console.log(`prometheus db_up{${job}}: ${JSON.stringify(dbUp)}`);
    console.log(`prometheus max scrape_duration_seconds{${job}} over 1m: ${JSON.stringify(took)}`);
    console.log(`prometheus alerts: ${JSON.stringify(list.filter((x) => x.labels.target === "hung" || x.labels.alertname === "DatabaseExporterAbsent").map(({ labels, state }) => ({ labels, state })))}`);
  }, 120_000);

  it("a PostgreSQL killed under a 30 s interval is db_up 0 within 5 s, on /metrics and in Prometheus; up again by its next interval", async () => {
    const job = 'job="db-health-30s",target="killed"';
    await until("db_up 1 for killed in Prometheus", () => query(`db_up{${job}}`), (r) => r[0]?.value[1] === "1");
    const t0 = performance.now();
    await killed!.stop("immediate");
    await until("db_up 0 on /metrics", () => dbUpOnMetrics("killed"), (v) => v === "0", 10_000, 50);
    const onMetrics = performance.now() - t0;
    const inPrometheus = await until("db_up 0 in Prometheus", () => query(`db_up{${job}}`), (r) => r[0]?.value[1] === "0", 10_000, 100);
    const seenByPrometheus = performance.now() - t0;
    console.log(`killed: db_up 0 on /metrics after ${Math.round(onMetrics)} ms, in Prometheus after ${Math.round(seenByPrometheus)} ms: ${JSON.stringify(inPrometheus)}`);
    expect(onMetrics).toBeLessThan(5000);
    expect(seenByPrometheus).toBeLessThan(5000);
    const lost = logs.b.split("\n").find((l) => l.includes('"msg":"connection lost"') && l.includes('"target":"killed"'));
    expect(lost, logs.b.slice(-2000)).toBeDefined();
    expect(JSON.parse(lost!)).toMatchObject({ level: "warn", engine: "postgres", probe: "now" });
    console.log(`daemon log: ${lost}`);

    // Back up: by the next scheduled cycle, not sooner. Nothing reports a server that comes
    // back (no connection is held once it was lost), so the cycle that finds it is the one due
    // 30 s ± 10 % after the early cycle began. A scrape on /probe would find it sooner; none here.
    const t1 = performance.now();
    await killed!.start();
    await until("db_up 1 on /metrics after restart", () => dbUpOnMetrics("killed"), (v) => v === "1", 45_000, 250);
    const back = performance.now() - t0;
    console.log(`killed: restarted ${Math.round(t1 - t0)} ms after the kill; db_up 1 on /metrics ${Math.round(back)} ms after the kill`);
    expect(back).toBeLessThan(33_000 + 5000);
  }, 120_000);
});
