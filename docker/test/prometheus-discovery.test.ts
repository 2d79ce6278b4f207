import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@alfred/db-health-testkit";
import { HAVE_PROMETHEUS, PROMETHEUS, startPrometheus, type RunningPrometheus } from "./__fixtures__/prometheus-run.js";

// The Kubernetes service-discovery example of docs/prometheus.md (discovered targets), run
// by a real Prometheus against the real CLI and the machine's PostgreSQL and MariaDB. Debian's
// Prometheus is built without Kubernetes discovery, so file_sd stands in for it, handing over the
// same __meta_kubernetes_* labels the endpoints role would; every relabelling rule is the page's.
const CLI = fileURLToPath(new URL("../../apps/healthcheck/dist/cli.cjs", import.meta.url));
const PROMETHEUS_DOC = fileURLToPath(new URL("../../docs/prometheus.md", import.meta.url));
if (!HAVE_PROMETHEUS && !process.env.CI) console.log(`prometheus-discovery: skipped, ${PROMETHEUS} is not installed (apt-get install prometheus); CI installs it`);

/** The documented job, with file_sd in place of kubernetes_sd and this test's interval and exporter. */
function documentedJob(sdFile: string, exporter: string): string {
  const text = readFileSync(PROMETHEUS_DOC, "utf8");
  const start = text.indexOf("  - job_name: db-health-discovered\n");
  const end = text.indexOf("\n```", start);
  if (start < 0 || end < 0) throw new Error("docs/prometheus.md has no db-health-discovered job");
  const job = text.slice(start, end);
  const sd = /    kubernetes_sd_configs:\n(?: {6}.*\n)+/;
  if (!sd.test(job)) throw new Error("the documented job has no kubernetes_sd_configs block");
  return job
    .replace(sd, `    file_sd_configs:\n      - files: [${JSON.stringify(sdFile)}]\n`)
    .replace(/scrape_interval: \S+/, "scrape_interval: 1s")
    .replace(/replacement: healthcheck\.monitoring\.svc:9091/, `replacement: ${exporter}`);
}

/** What the endpoints role would give for one address of a Service's endpoints. */
const endpoint = (address: string, labels: Record<string, string>): string =>
  `- targets: [${JSON.stringify(address)}]\n  labels:\n${Object.entries({ __meta_kubernetes_endpoint_ready: "true", __meta_kubernetes_namespace: "db", ...labels })
    .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)
    .join("\n")}\n`;

const dir = mkdtempSync(join(tmpdir(), "dbh-prom-sd-"));
let exporter: ChildProcess | undefined;
let logs = "";
let base = "";
let prom: RunningPrometheus | undefined;

describe.skipIf(!HAVE_PROMETHEUS && !process.env.CI)("the documented kubernetes_sd job for discovered targets", () => {
  beforeAll(async () => {
    if (!HAVE_PROMETHEUS) throw new Error(`${PROMETHEUS} not found: .ci/run installs Debian's prometheus package`);
    // the page's module names; this machine's servers and credentials
    const config = join(dir, "healthcheck.yaml");
    writeFileSync(
      config,
      [
        "modules:",
        "  k8s_pg:",
        "    engine: postgres",
        "    user: postgres",
        "    database: test",
        "    params: { sslmode: disable }",
        "    allow: { cidrs: [127.0.0.1/32], ports: [5432], databases: [test] }",
        "  k8s_mysql:",
        "    engine: mysql",
        "    user: root",
        "    allow: { cidrs: [127.0.0.1/32], ports: [3306], databases: [test] }",
        "",
      ].join("\n"),
    );
    exporter = spawn(process.execPath, [CLI, "--config", config, "--export-prom", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
    exporter.stdout!.on("data", (b: Buffer) => (logs += b.toString()));
    exporter.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
    base = (await waitFor("the exporter", async () => /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(logs)?.[1], (m) => m !== undefined, 20_000))!;
    const sdFile = join(dir, "endpoints.yml");
    const annotated = (module: string, database?: string): Record<string, string> => ({
      __meta_kubernetes_service_annotation_db_health_module: module,
      ...(database ? { __meta_kubernetes_service_annotation_db_health_database: database } : {}),
    });
    writeFileSync(
      sdFile,
      [
        endpoint("127.0.0.1:5432", { ...annotated("k8s_pg", "test"), __meta_kubernetes_endpoint_port_name: "postgres", __meta_kubernetes_pod_name: "orders-db-0" }),
        endpoint("127.0.0.1:3306", { ...annotated("k8s_mysql", "test"), __meta_kubernetes_endpoint_port_name: "mysql", __meta_kubernetes_pod_name: "shop-db-0" }),
        // outside k8s_pg's pod network: Prometheus scrapes it, the exporter refuses it
        endpoint("127.0.0.2:5432", { ...annotated("k8s_pg"), __meta_kubernetes_endpoint_port_name: "postgres", __meta_kubernetes_pod_name: "stray-0" }),
        // dropped by the job: another port of an annotated Service, a Service without the annotation, a pod not ready
        endpoint("127.0.0.1:9187", { ...annotated("k8s_pg"), __meta_kubernetes_endpoint_port_name: "metrics", __meta_kubernetes_pod_name: "orders-db-0" }),
        endpoint("127.0.0.1:8080", { __meta_kubernetes_endpoint_port_name: "postgres", __meta_kubernetes_pod_name: "web-0" }),
        endpoint("127.0.0.1:5432", { ...annotated("k8s_pg", "test"), __meta_kubernetes_endpoint_port_name: "postgres", __meta_kubernetes_pod_name: "orders-db-1", __meta_kubernetes_endpoint_ready: "false" }),
      ].join(""),
    );
    prom = await startPrometheus(["global: { scrape_interval: 1s }", "scrape_configs:", documentedJob(sdFile, base.replace(/^http:\/\//, "")), ""].join("\n"));
  }, 90_000);

  afterAll(async () => {
    exporter?.kill("SIGTERM");
    await prom?.stop();
    if (exporter && exporter.exitCode === null && exporter.signalCode === null) await new Promise((r) => exporter!.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  });

  it("probes each annotated, ready database endpoint through its module; the exporter refuses the one outside the module's network", async () => {
    const dbUp = await waitFor("db_up of both databases", () => prom!.query('db_up{job="db-health-discovered"}'), (r) => r.length === 2 && r.every((s) => s.value[1] === "1"), 60_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}\n${prom!.logs().slice(-1500)}\n${logs.slice(-1500)}`);
    });
    const { active, dropped } = await prom!.targets();
    console.log(`prometheus /api/v1/targets:\n  ${active.map((t) => `${t.scrapeUrl.replace(/^http:\/\/[^/]+/, "")} ${t.health} ${JSON.stringify(t.labels)}${t.lastError ? ` (${t.lastError})` : ""}`).join("\n  ")}\n  (${dropped.length} dropped)`);
    console.log(`prometheus query db_up: ${JSON.stringify(dbUp.map((s) => s.metric))}`);
    expect(active.map((t) => t.scrapeUrl.replace(/^http:\/\/[^/]+/, "")).sort()).toEqual([
      "/probe?module=k8s_mysql&target=127.0.0.1%3A3306%2Ftest",
      "/probe?module=k8s_pg&target=127.0.0.1%3A5432%2Ftest",
      // no database annotation: the address alone
      "/probe?module=k8s_pg&target=127.0.0.2%3A5432",
    ]);
    expect(dropped).toHaveLength(3);
    expect(dbUp.map((s) => [s.metric.instance, s.metric.module, s.metric.target, s.metric.namespace, s.metric.pod]).sort()).toEqual([
      ["127.0.0.1:3306/test", "k8s_mysql", "127.0.0.1:3306/test", "db", "shop-db-0"],
      ["127.0.0.1:5432/test", "k8s_pg", "127.0.0.1:5432/test", "db", "orders-db-0"],
    ]);
    const stray = await waitFor("the stray endpoint's scrape", () => prom!.query('up{job="db-health-discovered",instance="127.0.0.2:5432"}'), (r) => r.length === 1, 30_000, 250);
    expect(stray[0]!.value[1]).toBe("0");
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^db_health_check_discovered_refused_total\{module="k8s_pg",reason="address"\} [1-9]/m);
  }, 90_000);
});
