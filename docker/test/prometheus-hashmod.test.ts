import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@alfred/db-health-testkit";
import { HAVE_PROMETHEUS, PROMETHEUS, startPrometheus, type RunningPrometheus } from "./__fixtures__/prometheus-run.js";

// Scale-out, proven: two exporter processes behind one real Prometheus, each scrape job keeping
// its share of the target names with `hashmod` exactly as docs/prometheus.md ("Sharding with
// `hashmod`") writes the job (read from that page; only the modulus, the scrape interval and the
// addresses are this test's). Each exporter is configured with its shard only, so a target sent to the wrong one
// would be a 400 and `up == 0`.
const CLI = fileURLToPath(new URL("../../apps/healthcheck/dist/cli.cjs", import.meta.url));
const PROMETHEUS_DOC = fileURLToPath(new URL("../../docs/prometheus.md", import.meta.url));
const NAMES = ["orders", "shop", "billing", "users", "analytics", "audit", "payments", "search", "inventory", "auth"];
const REPLICAS = 2;
if (!HAVE_PROMETHEUS && !process.env.CI) console.log(`prometheus-hashmod: skipped, ${PROMETHEUS} is not installed (apt-get install prometheus); CI installs it`);

/** The shard of `name` as Prometheus' hashmod computes it: MD5, its last 8 bytes big-endian, modulo. */
const shardOf = (name: string, modulus: number): number => Number(createHash("md5").update(name).digest().readBigUInt64BE(8) % BigInt(modulus));

/** The sharding job of replica 0, as the page writes it. */
function documentedJob(): string {
  const text = readFileSync(PROMETHEUS_DOC, "utf8");
  const start = text.indexOf("  - job_name: db-health-probe-0\n");
  const end = text.indexOf("\n\n", start);
  if (start < 0 || end < 0) throw new Error("docs/prometheus.md (Sharding with hashmod) has no db-health-probe-0 job");
  return text.slice(start, end);
}

const dir = mkdtempSync(join(tmpdir(), "dbh-hashmod-"));
const exporters: ChildProcess[] = [];
const logs: string[] = [];
let prom: RunningPrometheus | undefined;
let addresses: string[] = [];

describe.skipIf(!HAVE_PROMETHEUS && !process.env.CI)("hashmod: two exporters behind one Prometheus", () => {
  beforeAll(async () => {
    if (!HAVE_PROMETHEUS) throw new Error(`${PROMETHEUS} not found: .ci/run installs Debian's prometheus package`);
    // one config file per replica, holding its shard only (SQLite files: nothing shared touched)
    addresses = await Promise.all(
      Array.from({ length: REPLICAS }, async (_, r) => {
        const mine = NAMES.filter((n) => shardOf(n, REPLICAS) === r);
        const file = join(dir, `healthcheck-${r}.yaml`);
        writeFileSync(file, ["defaults: { interval: 1m }", "targets:", ...mine.flatMap((n) => [`  - name: ${n}`, `    dsn: file:${join(dir, `${n}.db`)}?mode=rwc`]), ""].join("\n"));
        const child = spawn(process.execPath, [CLI, "--config", file, "--export-prom", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
        exporters.push(child);
        logs[r] = "";
        child.stdout!.on("data", (b: Buffer) => (logs[r] += b.toString()));
        child.stderr!.on("data", (b: Buffer) => (logs[r] += b.toString()));
        const base = await waitFor(`exporter ${r}`, async () => /"metrics":"http:\/\/([^"/]+)\/metrics"/.exec(logs[r]!)?.[1], (m) => m !== undefined, 20_000);
        return base!;
      }),
    );
    writeFileSync(join(dir, "names.yml"), `- targets: [${NAMES.join(", ")}]\n  labels: { env: test }\n`);
    const template = documentedJob();
    const jobs = addresses.map((address, r) =>
      template
        .replace("db-health-probe-0", `db-health-probe-${r}`)
        .replace(/modulus: \d+/, `modulus: ${REPLICAS}`)
        .replace('regex: "0"', `regex: "${r}"`)
        .replace(/scrape_interval: \S+/, "scrape_interval: 1s")
        .replace(/files: \[[^\]]*\]/, `files: [${JSON.stringify(join(dir, "names.yml"))}]`)
        .replace(/replacement: \S+:9091/, `replacement: ${address}`),
    );
    prom = await startPrometheus(["global: { scrape_interval: 1s }", "scrape_configs:", ...jobs, ""].join("\n"));
  }, 90_000);

  afterAll(async () => {
    for (const e of exporters) e.kill("SIGTERM");
    await prom?.stop();
    await Promise.all(exporters.map((e) => (e.exitCode === null && e.signalCode === null ? new Promise((r) => e.once("exit", r)) : undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  it("scrapes each target through exactly one exporter, the one its hash names, and every scrape is up", async () => {
    const up = await waitFor("an up series per target", () => prom!.query("up"), (r) => r.length === NAMES.length && r.every((s) => s.value[1] === "1"), 60_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}\n${prom!.logs().slice(-1500)}\n${logs.join("\n").slice(-2000)}`);
    });
    const byTarget = Object.fromEntries(up.map((s) => [s.metric.instance!, s.metric.job!]));
    const expected = Object.fromEntries(NAMES.map((n) => [n, `db-health-probe-${shardOf(n, REPLICAS)}`]));
    expect(byTarget).toEqual(expected);
    expect(await prom!.query("count by (instance) (up) > 1")).toEqual([]);
    const dbUp = await waitFor("db_up per target", () => prom!.query("db_up"), (r) => r.length === NAMES.length, 30_000, 250);
    expect(dbUp.every((s) => s.value[1] === "1" && s.metric.target === s.metric.instance && s.metric.job === expected[s.metric.instance!])).toBe(true);
    const { active, dropped } = await prom!.targets();
    const scraped = active.map((t) => `${t.scrapePool} ${t.labels.instance} ${t.scrapeUrl.replace(/^http:\/\/[^/]+/, "")} ${t.health}`).sort();
    console.log(`exporters: ${addresses.map((a, r) => `replica ${r} ${a}`).join(", ")}`);
    console.log(`prometheus /api/v1/targets:\n  ${scraped.join("\n  ")}\n  (${dropped.length} dropped: each name by the job it does not belong to)`);
    console.log(`prometheus query up: ${JSON.stringify(up.map((s) => ({ instance: s.metric.instance, job: s.metric.job, value: s.value[1] })))}`);
    expect(active).toHaveLength(NAMES.length);
    expect(dropped).toHaveLength(NAMES.length * (REPLICAS - 1));
    // neither exporter was asked for a name it does not hold
    expect(logs.join("\n")).not.toMatch(/unknown target/);
  }, 90_000);
});
