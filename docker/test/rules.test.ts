import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";

// The alert rules and their promtool unit tests (docker/prometheus/rules), and the compose
// stack's prometheus.yml, checked by Debian's promtool. Locally a missing promtool skips (with
// a line saying so); in CI (.ci/run installs it) a missing promtool fails.
const PROMTOOL = process.env.PROMTOOL ?? "promtool";
const path = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const RULES = path("../prometheus/rules/database_alerts.yml");
const TESTS = path("../prometheus/rules/database_alerts.test.yml");
const CONFIG = path("../prometheus/prometheus.yml");
const COMPOSE = path("../docker-compose.db.yml");

interface Run { status: number | null; out: string }
const promtool = (...args: string[]): Run => {
  const r = spawnSync(PROMTOOL, args, { encoding: "utf8" });
  return { status: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
};
const version = spawnSync(PROMTOOL, ["--version"], { encoding: "utf8" });
const have = version.error === undefined && version.status === 0;
if (!have && !process.env.CI) console.log(`rules.test: promtool checks skipped, ${PROMTOOL} was not found (apt-get install prometheus, or set PROMTOOL); CI installs it`);
const needPromtool = (): void => {
  if (!have) throw new Error(`${PROMTOOL} not found: .ci/run installs Debian's prometheus package`);
};
/** A test that needs promtool: skipped locally without it, failing in CI without it. */
const withPromtool = it.skipIf(!have && !process.env.CI);
/** Findings other than the `Checking <file>` lines. */
const findings = (out: string): string => out.split("\n").filter((l) => !/^\s*Checking /.test(l)).join("\n");

interface AlertRule { alert: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
interface RuleFile { groups: Array<{ name: string; rules: AlertRule[] }> }
interface AlertCase { eval_time: string; alertname: string; exp_alerts?: Array<{ exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }> }
interface TestFile { rule_files: string[]; tests: Array<{ name: string; alert_rule_test?: AlertCase[] }> }

const rules = parse(readFileSync(RULES, "utf8")) as RuleFile;
const unitTests = parse(readFileSync(TESTS, "utf8")) as TestFile;
const alerts = rules.groups.flatMap((g) => g.rules);
const cases = unitTests.tests.flatMap((t) => (t.alert_rule_test ?? []).map((c) => ({ test: t.name, ...c })));

/** `promtool test rules` prints `SUCCESS`, or `FAILED:` and one `alertname: X, time: T,` block per failed case. */
const failures = (out: string): number => {
  const cases = (out.match(/^\s*alertname: .*, time: /gm) ?? []).length;
  return cases > 0 ? cases : /FAILED/.test(out) ? 1 : 0;
};

const dirs: string[] = [];
const scratch = (): string => {
  const d = mkdtempSync(join(tmpdir(), "dbh-rules-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("database_alerts.yml", () => {
  it("has the group database_alerts with the original alerts and the operator's ones", () => {
    expect(rules.groups.map((g) => g.name)).toEqual(expect.arrayContaining(["database_alerts", "database_cluster_alerts"]));
    expect(new Set(rules.groups.map((g) => g.name)).size).toBe(rules.groups.length);
    expect(alerts.map((a) => a.alert)).toEqual(expect.arrayContaining([
      "DatabaseDown", "DatabaseHighLatency", "DatabaseProbeLatencyHigh", "DatabaseDegraded", "DatabaseReplicationLagHigh",
      "DatabaseProbeStale", "DatabaseExporterAbsent", "DatabaseConnectionErrorsRising",
    ]));
    const cluster = rules.groups.find((g) => g.name === "database_cluster_alerts")!.rules;
    expect(cluster.map((a) => [a.alert, a.labels?.severity])).toEqual([["DatabaseClusterSplitBrain", "critical"], ["DatabaseClusterNoPrimary", "critical"]]);
    expect(new Set(alerts.map((a) => a.alert)).size).toBe(alerts.length);
    // The original design's two alerts keep their name, severity, `for` and legacy gauges.
    const down = alerts.find((a) => a.alert === "DatabaseDown")!;
    expect([down.expr, down.for, down.labels?.severity]).toEqual(["db_up == 0", "1m", "critical"]);
    const latency = alerts.find((a) => a.alert === "DatabaseHighLatency")!;
    expect(latency.expr).toMatch(/db_read_latency_ms > 100\b[\s\S]*\bor\b[\s\S]*db_write_latency_ms > 200\b/);
    expect([latency.for, latency.labels?.severity]).toEqual(["5m", "warning"]);
  });

  it.each(alerts.map((a) => [a.alert, a] as const))("%s has a severity, a summary and a runbook-style description", (_name, a) => {
    expect(["critical", "warning"]).toContain(a.labels?.severity);
    expect(a.annotations?.summary).toBeTruthy();
    const description = a.annotations?.description ?? "";
    expect(description).toMatch(/First checks:/);
    if (a.alert === "DatabaseExporterAbsent") {
      // up{} carries no db labels: the exporter's instance and job name what is missing.
      expect(description).toContain("{{ $labels.job }}");
      expect(`${a.annotations?.summary}${description}`).toContain("$labels.instance");
    } else if (a.alert.startsWith("DatabaseCluster")) {
      // db_cluster_* describe several targets: the cluster and the exporter name them.
      for (const label of ["cluster", "instance"]) expect(description).toContain(`{{ $labels.${label} }}`);
    } else {
      for (const label of ["target", "db_name", "db_role"]) expect(description).toContain(`{{ $labels.${label} }}`);
      expect(description).toMatch(/target/);
    }
  });

  withPromtool("passes promtool check rules with no warning", () => {
    needPromtool();
    const r = promtool("check", "rules", RULES);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(new RegExp(`SUCCESS: ${alerts.length} rules found`));
    expect(findings(r.out)).not.toMatch(/warn|FAILED|error/i);
  });
});

describe("database_alerts.test.yml (promtool unit tests)", () => {
  it("tests the rule file beside it", () => {
    expect(unitTests.rule_files).toEqual(["database_alerts.yml"]);
    for (const c of cases) expect(alerts.map((a) => a.alert), `${c.test} @ ${c.eval_time}`).toContain(c.alertname);
  });

  it.each(alerts.map((a) => [a.alert] as const))("%s has a case where it fires and one where it does not", (name) => {
    const mine = cases.filter((c) => c.alertname === name);
    const firing = mine.filter((c) => (c.exp_alerts ?? []).length > 0);
    const quiet = mine.filter((c) => (c.exp_alerts ?? []).length === 0);
    expect(firing.length, `${name}: no case expects it to fire`).toBeGreaterThan(0);
    expect(quiet.length, `${name}: no case expects it to stay quiet`).toBeGreaterThan(0);
    // A firing case names the labels and renders the annotations, so templates are tested too.
    for (const c of firing) {
      for (const a of c.exp_alerts!) {
        expect(a.exp_labels?.severity, `${c.test} @ ${c.eval_time}`).toBe(alerts.find((r) => r.alert === name)!.labels?.severity);
        expect(Object.keys(a.exp_annotations ?? {}).sort()).toEqual(["description", "summary"]);
      }
    }
  });

  withPromtool("passes promtool test rules with zero failures", () => {
    needPromtool();
    const r = promtool("test", "rules", TESTS);
    expect(failures(r.out), r.out).toBe(0);
    expect(r.out).toMatch(/^\s*SUCCESS\s*$/m);
    expect(r.status, r.out).toBe(0);
  });

  // The cases really constrain the rules: an alert that never fires, or that fires whenever its
  // expression is empty, makes at least one of its own cases fail.
  withPromtool.each(alerts.map((a) => [a.alert] as const))("the cases of %s catch a rule that never fires and one that always fires", (name) => {
    needPromtool();
    const run = (mutate: (a: AlertRule) => void): Run => {
      const dir = scratch();
      const copy = structuredClone(rules);
      for (const a of copy.groups.flatMap((g) => g.rules)) if (a.alert === name) mutate(a);
      writeFileSync(join(dir, "database_alerts.yml"), stringify(copy));
      copyFileSync(TESTS, join(dir, "database_alerts.test.yml"));
      return promtool("test", "rules", join(dir, "database_alerts.test.yml"));
    };
    const never = run((a) => (a.expr = `(${a.expr}) and on() vector(0) > 1`));
    expect(never.status, never.out).not.toBe(0);
    expect(never.out).toContain(`alertname: ${name},`);
    const always = run((a) => (a.expr = `(${a.expr}) or vector(1)`));
    expect(always.status, always.out).not.toBe(0);
    expect(always.out).toContain(`alertname: ${name},`);
  });
});

describe("prometheus.yml (compose stack)", () => {
  interface ScrapeConfig { job_name: string; metrics_path?: string; static_configs?: Array<{ targets: string[] }>; relabel_configs?: Array<Record<string, unknown>> }
  const config = parse(readFileSync(CONFIG, "utf8")) as { rule_files: string[]; scrape_configs: ScrapeConfig[] };
  const jobs = config.scrape_configs.filter((s) => s.job_name.startsWith("db-health"));

  it("scrapes /metrics and /probe with the target name relabelled into ?target= and instance", () => {
    expect(jobs.map((j) => [j.job_name, j.metrics_path ?? "/metrics"])).toEqual([["db-health", "/metrics"], ["db-health-probe", "/probe"]]);
    const probe = jobs[1]!;
    expect(probe.relabel_configs).toEqual([
      expect.objectContaining({ source_labels: ["__address__"], target_label: "__param_target" }),
      expect.objectContaining({ source_labels: ["__param_target"], target_label: "instance" }),
      expect.objectContaining({ target_label: "__address__", replacement: jobs[0]!.static_configs![0]!.targets[0] }),
    ]);
  });

  it("names jobs that DatabaseExporterAbsent watches", () => {
    const expr = alerts.find((a) => a.alert === "DatabaseExporterAbsent")!.expr;
    const regexes = [...expr.matchAll(/up\{job=~"([^"]+)"\}/g)].map((m) => new RegExp(`^(?:${m[1]!})$`));
    expect(regexes.length).toBeGreaterThan(0);
    for (const job of jobs) for (const re of regexes) expect(job.job_name).toMatch(re);
    expect("prometheus").not.toMatch(regexes[0]!);
  });

  it("loads the rule file from where docker-compose.db.yml mounts it", () => {
    const compose = parse(readFileSync(COMPOSE, "utf8")) as { services: Record<string, { volumes?: string[] }> };
    const mount = (compose.services.prometheus?.volumes ?? []).map((v) => v.split(":")).find(([src]) => src === "./prometheus/rules");
    expect(mount, "docker-compose.db.yml mounts ./prometheus/rules into prometheus").toBeDefined();
    expect(config.rule_files).toEqual([`${mount![1]}/database_alerts.yml`]);
  });

  withPromtool("passes promtool check config (rule path pointed at the repository's rules)", () => {
    needPromtool();
    const dir = scratch();
    const local = { ...config, rule_files: [RULES] };
    writeFileSync(join(dir, "prometheus.yml"), stringify(local));
    const r = promtool("check", "config", join(dir, "prometheus.yml"));
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/is valid prometheus config file syntax/);
    expect(r.out).toMatch(new RegExp(`SUCCESS: ${alerts.length} rules found`));
    expect(findings(r.out)).not.toMatch(/warn|FAILED|error/i);
  });
});
