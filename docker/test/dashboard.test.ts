import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { createMetrics, registerClusterMetrics, type ProbeResult } from "@alfred/db-health-core";

// Every query of the Grafana dashboard and of the alert rules parses as PromQL (promtool) and
// names only series the exporter really exposes (the in-process exporter's own exposition).
const PROMTOOL = process.env.PROMTOOL ?? "promtool";
const path = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const DASHBOARD = path("../grafana/dashboards/db-health.json");
const RULES = path("../prometheus/rules/database_alerts.yml");
const DATASOURCES = path("../grafana/provisioning/datasources/prometheus.yml");
const PROVIDERS = path("../grafana/provisioning/dashboards/db-health.yml");
const COMPOSE = path("../docker-compose.db.yml");
const DAEMON = path("../../apps/healthcheck/src/daemon.ts");

const version = spawnSync(PROMTOOL, ["--version"], { encoding: "utf8" });
const have = version.error === undefined && version.status === 0;
if (!have && !process.env.CI) console.log(`dashboard.test: PromQL parse check skipped, ${PROMTOOL} was not found (apt-get install prometheus, or set PROMTOOL); CI installs it`);
const withPromtool = it.skipIf(!have && !process.env.CI);

// ---- the dashboard's and the rules' queries -------------------------------------------------

interface Panel { id: number; type: string; title: string; datasource?: { type: string; uid: string }; targets?: Array<{ expr?: string }>; panels?: Panel[]; gridPos?: unknown }
interface Variable { name: string; type: string; query?: string | { query: string }; definition?: string; includeAll?: boolean; multi?: boolean }
interface Dashboard { uid: string; title: string; schemaVersion: number; panels: Panel[]; templating: { list: Variable[] } }

const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as Dashboard;
const rules = parse(readFileSync(RULES, "utf8")) as { groups: Array<{ rules: Array<{ alert?: string; record?: string; expr: string }> }> };

/** Every `expr` anywhere in the JSON (panels, rows' nested panels, whatever holds one). */
function exprs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) exprs(n, found);
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "expr" && typeof v === "string") found.push(v);
      else exprs(v, found);
    }
  }
  return found;
}

/** `label_values(<selector>, label)` of the query variables: the selector is PromQL too. */
const variableSelectors = dashboard.templating.list
  .filter((v) => v.type === "query")
  .map((v) => {
    const q = typeof v.query === "string" ? v.query : v.query?.query ?? "";
    const m = /^label_values\((.+),\s*(\w+)\)$/.exec(q.trim());
    if (!m) throw new Error(`variable ${v.name}: expected label_values(<selector>, <label>), got ${q}`);
    return { name: v.name, selector: m[1]!, label: m[2]! };
  });

/** Concrete values for Grafana's variables, so the text becomes plain PromQL. */
const VALUES: Record<string, string> = {
  target: "orders",
  db_name: "postgres",
  job: "db-health",
  DS_PROMETHEUS: "prometheus",
  __rate_interval: "1m",
  __interval: "30s",
  __range: "1h",
};
function substitute(text: string): string {
  return text.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (_m, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c)!;
    const value = VALUES[name];
    if (value === undefined) throw new Error(`unknown Grafana variable $${name} in: ${text}`);
    return value;
  });
}

const dashboardQueries = [...exprs(dashboard.panels), ...variableSelectors.map((v) => v.selector)].map((raw) => ({ raw, promql: substitute(raw) }));
const ruleQueries = rules.groups.flatMap((g) => g.rules).map((r) => ({ raw: r.expr, promql: r.expr }));

// ---- metric names in PromQL --------------------------------------------------------------------

const KEYWORDS = new Set(["and", "or", "unless", "atan2", "bool", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "inf", "nan"]);
/**
 * The metric names an expression selects: identifiers left after dropping string literals, label
 * matchers `{…}`, ranges `[…]`, grouping label lists (`by (…)`, `on (…)`…), numbers and
 * durations, keywords, and function names (an identifier followed by `(`).
 */
function metricNames(promql: string): string[] {
  const stripped = promql
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\boffset\s+-?[0-9a-z]+/gi, " ")
    .replace(/(?<![\w:])(?:0x[0-9a-f]+|\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)(?:[smhdwy]|ms)?/gi, " ");
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][\w:]*/g)) {
    const isFunction = /^\s*\(/.test(stripped.slice(m.index + m[0].length));
    if (!isFunction && !KEYWORDS.has(m[0].toLowerCase())) names.add(m[0]);
  }
  return [...names].sort();
}

// ---- what the exporter exposes -------------------------------------------------------------------

/** prom-client's default collectors: the exporter's own process and runtime. */
const RUNTIME = /^(process|nodejs)_/;

/** Series names of the real exposition: gauges and counters as is, histograms as _bucket/_sum/_count. */
const exposed = new Set<string>(["up"]);
const families = new Map<string, string>();
let wrapperMetrics: string[] = [];

beforeAll(async () => {
  // As the CLI creates them: runtime metrics are on unless --no-runtime-metrics.
  const metrics = createMetrics({ legacyNames: true, runtimeMetrics: true, buildInfo: { version: "1.0.0", revision: "unknown", nodeversion: process.version } });
  const phase = (ms: number) => ({ ok: true, ms });
  const sample: ProbeResult = {
    target: "orders",
    driver: "postgres",
    endpoint: "postgres://db:5432/app",
    status: "up",
    role: "replica",
    readOnly: true,
    problems: [],
    phases: { connect: phase(2.5), ping: phase(0.4), role: phase(0.6), write: phase(1.2), read: phase(0.8), connections: phase(0.5) },
    attempts: 1,
    connections: 3,
    connectionsMax: 100,
    certificateExpiresAt: Date.now() + 30 * 86_400_000,
    lagSeconds: 1,
    checks: [{ name: "backlog", ok: true, value: 12, ms: 0.7 }],
    startedAt: Date.now(),
    durationMs: 6,
  };
  metrics.observe(sample);
  // The daemon registers the cluster families when a target names a cluster (apps/healthcheck/src/cluster-daemon.ts).
  registerClusterMetrics(metrics.registry, () => [{ cluster: "main", members: 2, membersUp: 2, primaries: ["orders"], state: "ok" }]);
  const text = await metrics.render();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1]!, m[2]!);
  for (const [name, type] of families) {
    if (type === "histogram" || type === "summary") for (const suffix of ["_bucket", "_sum", "_count"]) exposed.add(`${name}${suffix}`);
    else exposed.add(name);
  }
  // Every sample line must belong to one of those series names.
  for (const m of text.matchAll(/^([a-zA-Z_:][\w:]*)[{ ]/gm)) expect(exposed, `sample ${m[1]}`).toContain(m[1]);

  // Wrapper mode registers two more gauges beside the child (apps/healthcheck/src/daemon.ts).
  const daemon = readFileSync(DAEMON, "utf8");
  wrapperMetrics = ["db_health_check_child_running", "db_health_check_child_start_time_seconds"];
  for (const name of wrapperMetrics) {
    expect(daemon, `daemon.ts registers ${name}`).toContain(`name: "${name}"`);
    exposed.add(name);
  }
});

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("metricNames()", () => {
  it("finds selected metrics and ignores labels, functions, keywords, numbers and durations", () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le, db_name) (rate(db_probe_duration_seconds_bucket{db_role="x", target=~"a|b"}[5m] offset 1h))) > 0.1')).toEqual(["db_probe_duration_seconds_bucket"]);
    expect(metricNames('time() - db_probe_last_success_timestamp_seconds > 300 unless on (job, db_up) (up == 0)')).toEqual(["db_probe_last_success_timestamp_seconds", "up"]);
    expect(metricNames('label_replace(db_read_latency_ms > 1e2, "phase", "db_up", "", "") or absent(up{job=~"db-health.*"})')).toEqual(["db_read_latency_ms", "up"]);
    expect(metricNames("max by (target) (db_up) + 2 * max(db_status)")).toEqual(["db_status", "db_up"]);
  });
});

describe("the exporter's exposition", () => {
  it("has every family of the Metrics table, legacy names included, and the process's runtime metrics", () => {
    expect([...families.keys()].filter((f) => !RUNTIME.test(f)).sort()).toEqual([
      "db_check_duration_seconds", "db_check_up", "db_check_value", "db_cluster_members", "db_cluster_members_up", "db_cluster_primaries",
      "db_connection_count", "db_connection_errors_total", "db_connections", "db_connections_max", "db_health_check_build_info", "db_probe_duration_seconds",
      "db_probe_last_success_timestamp_seconds", "db_read_latency_ms", "db_replication_lag_seconds", "db_status", "db_tls_certificate_expiry_timestamp_seconds",
      "db_up", "db_write_latency_ms",
    ]);
    expect(families.get("db_probe_duration_seconds")).toBe("histogram");
    for (const f of ["process_cpu_seconds_total", "process_resident_memory_bytes", "nodejs_heap_size_used_bytes", "nodejs_eventloop_lag_p99_seconds"]) expect(families.has(f), f).toBe(true);
  });
});

describe("db-health.json", () => {
  const allPanels = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
  const panels = allPanels(dashboard.panels);
  const byTitle = (re: RegExp): Panel => {
    const p = panels.find((x) => re.test(x.title));
    if (!p) throw new Error(`no panel titled ${re}`);
    return p;
  };
  const queriesOf = (p: Panel): string => (p.targets ?? []).map((t) => t.expr ?? "").join("\n");

  it("is a schemaVersion 39 dashboard on the ${DS_PROMETHEUS} datasource variable", () => {
    expect(dashboard.uid).toBe("db-health");
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    const ds = dashboard.templating.list.find((v) => v.name === "DS_PROMETHEUS");
    expect(ds).toMatchObject({ type: "datasource", query: "prometheus" });
    const queryPanels = panels.filter((p) => p.type !== "row");
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of queryPanels) {
      expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: "${DS_PROMETHEUS}" });
      expect(p.gridPos, p.title).toBeDefined();
      expect((p.targets ?? []).length, p.title).toBeGreaterThan(0);
    }
  });

  it("has target and db_name variables from label_values, and every query filters by them", () => {
    expect(variableSelectors.map((v) => [v.name, v.label])).toEqual(expect.arrayContaining([["target", "target"], ["db_name", "db_name"]]));
    for (const v of dashboard.templating.list.filter((x) => ["target", "db_name"].includes(x.name))) expect([v.multi, v.includeAll], v.name).toEqual([true, true]);
    // Every panel query on per-target series (db_*, not the exporter's own db_health_check_*, nor
    // the clusters' db_cluster_*, which carry `cluster` instead of the target labels).
    for (const raw of exprs(dashboard.panels)) {
      if (!metricNames(raw).some((n) => n.startsWith("db_") && !n.startsWith("db_health_check_") && !n.startsWith("db_cluster_"))) continue;
      expect(raw).toContain('target=~"$target"');
      expect(raw).toContain('db_name=~"$db_name"');
    }
  });

  it("has the operator's panels", () => {
    expect(queriesOf(byTitle(/^Status now/))).toMatch(/db_status\{/);
    expect(queriesOf(byTitle(/db_up/))).toMatch(/\bdb_up\{/);
    const latency = byTitle(/latency by phase/i);
    const q = queriesOf(latency);
    for (const quantile of ["0.5", "0.95", "0.99"]) expect(q).toContain(`histogram_quantile(${quantile}, sum by (le, phase) (rate(db_probe_duration_seconds_bucket{`);
    expect(q).toContain("[$__rate_interval]");
    expect(queriesOf(byTitle(/Read \/ write latency/))).toMatch(/db_read_latency_ms[\s\S]*db_write_latency_ms/);
    expect(queriesOf(byTitle(/^Connections$/))).toMatch(/\bdb_connections\{/);
    expect(queriesOf(byTitle(/Connection errors/))).toMatch(/rate\(db_connection_errors_total\{/);
    expect(queriesOf(byTitle(/Replication lag/))).toMatch(/db_replication_lag_seconds\{/);
    expect(queriesOf(byTitle(/last successful probe/))).toMatch(/time\(\) - .*db_probe_last_success_timestamp_seconds\{/);
    expect(queriesOf(byTitle(/child running/))).toMatch(/db_health_check_child_running\{/);
    expect(queriesOf(byTitle(/^Custom checks \(db_check_up/))).toMatch(/min by \(target, check\) \(db_check_up\{/);
    expect(queriesOf(byTitle(/Connection saturation/))).toMatch(/db_connections\{[^}]*\}\) \/ max by \(target\) \(db_connections_max\{/);
    expect(queriesOf(byTitle(/TLS certificate expires/))).toMatch(/db_tls_certificate_expiry_timestamp_seconds\{[^}]*\}\) - time\(\)/);
    expect(queriesOf(byTitle(/Primaries per cluster/))).toMatch(/max by \(cluster\) \(db_cluster_primaries\{/);
  });

  it("refers only to series the exporter exposes, and shows every family but the legacy alias", () => {
    const used = new Set<string>();
    for (const { raw, promql } of dashboardQueries) {
      const names = metricNames(promql);
      expect(names.length, raw).toBeGreaterThan(0);
      for (const n of names) {
        expect(exposed, `${n} in ${raw}`).toContain(n);
        const base = n.replace(/_(bucket|sum|count)$/, "");
        used.add(families.get(base) === "histogram" ? base : n);
      }
    }
    // db_connection_count is the legacy alias of db_connections, which the dashboard shows; of the
    // runtime metrics it shows a few (memory, CPU, event-loop delay), not all.
    const shown = [...families.keys(), ...wrapperMetrics].filter((f) => f !== "db_connection_count" && !RUNTIME.test(f));
    for (const f of shown) expect(used, `the dashboard shows ${f}`).toContain(f);
    for (const f of ["process_resident_memory_bytes", "process_cpu_seconds_total", "nodejs_eventloop_lag_p99_seconds"]) expect(used, `the dashboard shows ${f}`).toContain(f);
  });
});

describe("database_alerts.yml queries", () => {
  it("refer only to series the exporter exposes", () => {
    for (const { raw } of ruleQueries) {
      const names = metricNames(raw);
      expect(names.length, raw).toBeGreaterThan(0);
      for (const n of names) expect(exposed, `${n} in ${raw}`).toContain(n);
    }
  });
});

withPromtool("every dashboard and rule query parses as PromQL (promtool check rules on one recording rule each)", () => {
  if (!have) throw new Error(`${PROMTOOL} not found: .ci/run installs Debian's prometheus package`);
  const all = [...dashboardQueries, ...ruleQueries];
  const file = {
    groups: [{
      name: "dashboard_queries",
      rules: all.map((q, i) => ({ record: `dashboard:q${i + 1}`, expr: q.promql })),
    }],
  };
  const dir = mkdtempSync(join(tmpdir(), "dbh-dash-"));
  dirs.push(dir);
  writeFileSync(join(dir, "queries.yml"), stringify(file));
  const r = spawnSync(PROMTOOL, ["check", "rules", join(dir, "queries.yml")], { encoding: "utf8" });
  const out = `${r.stdout}${r.stderr}`;
  expect(r.status, `${out}\n${all.map((q, i) => `dashboard:q${i + 1}: ${q.promql}`).join("\n")}`).toBe(0);
  expect(out).toContain(`SUCCESS: ${all.length} rules found`);
});

withPromtool("the status panels tell a target with no result yet from up, degraded and down, also beside exporters without the unknown state", () => {
  if (!have) throw new Error(`${PROMTOOL} not found: .ci/run installs Debian's prometheus package`);
  const allPanels = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
  const panels = allPanels(dashboard.panels).filter((p) => /^Status (now|history)/.test(p.title));
  expect(panels).toHaveLength(2);
  // The series a scrape holds: one target per state; "old" from an exporter older than the unknown state.
  const states: Record<string, Record<string, number>> = {
    fresh: { up: 0, degraded: 0, down: 0, unknown: 1 },
    ok: { up: 1, degraded: 0, down: 0, unknown: 0 },
    slow: { up: 0, degraded: 1, down: 0, unknown: 0 },
    gone: { up: 0, degraded: 0, down: 1, unknown: 0 },
    old: { up: 0, degraded: 0, down: 1 },
  };
  const series = Object.entries(states).flatMap(([target, set]) =>
    Object.entries(set).map(([status, v]) => ({ series: `db_status{job="db-health",instance="hc:9091",target="${target}",db_name="postgres",db_role="primary",status="${status}"}`, values: `${v}x2` })),
  );
  const expected = { fresh: 3, ok: 0, slow: 1, gone: 2, old: 2 };
  const dir = mkdtempSync(join(tmpdir(), "dbh-dash-"));
  dirs.push(dir);
  writeFileSync(join(dir, "none.yml"), "groups: []\n");
  const withVars = (expr: string): string => substitute(expr).replaceAll('target=~"orders"', 'target=~".*"').replaceAll('db_name=~"postgres"', 'db_name=~".*"');
  writeFileSync(join(dir, "status.test.yml"), stringify({
    rule_files: ["none.yml"],
    evaluation_interval: "1m",
    tests: panels.map((p) => ({
      interval: "1m",
      input_series: series,
      promql_expr_test: [{
        expr: withVars(p.targets![0]!.expr!),
        eval_time: "1m",
        exp_samples: Object.entries(expected).map(([target, value]) => ({ labels: `{target="${target}",db_name="postgres",db_role="primary"}`, value })),
      }],
    })),
  }));
  const r = spawnSync(PROMTOOL, ["test", "rules", join(dir, "status.test.yml")], { encoding: "utf8" });
  expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  for (const p of panels) {
    const mapping = (p as unknown as { fieldConfig: { defaults: { mappings: Array<{ options: Record<string, { text: string }> }> } } }).fieldConfig.defaults.mappings[0]!.options;
    expect(Object.fromEntries(Object.entries(mapping).map(([k, v]) => [k, v.text]))).toEqual({ 0: "UP", 1: "DEGRADED", 2: "DOWN", 3: "NO RESULT YET" });
  }
});

describe("Grafana provisioning", () => {
  interface Compose { services: Record<string, { volumes?: string[] }> }
  const grafanaMount = (src: string): string | undefined => {
    const compose = parse(readFileSync(COMPOSE, "utf8")) as Compose;
    return (compose.services.grafana?.volumes ?? []).map((v) => v.split(":")).find(([s]) => s === src)?.[1];
  };

  it("points the datasource at the compose service prometheus, with the uid the dashboard defaults to", () => {
    const ds = parse(readFileSync(DATASOURCES, "utf8")) as { apiVersion: number; datasources: Array<Record<string, unknown>> };
    expect(ds.apiVersion).toBe(1);
    expect(ds.datasources).toEqual([expect.objectContaining({ type: "prometheus", uid: "prometheus", url: "http://prometheus:9090", access: "proxy", isDefault: true })]);
    expect(VALUES.DS_PROMETHEUS).toBe("prometheus");
  });

  it("loads the dashboards directory from where docker-compose.db.yml mounts it", () => {
    const providers = parse(readFileSync(PROVIDERS, "utf8")) as { apiVersion: number; providers: Array<{ type: string; folder: string; options: { path: string } }> };
    expect(providers.apiVersion).toBe(1);
    expect(providers.providers).toHaveLength(1);
    const p = providers.providers[0]!;
    expect([p.type, p.folder]).toEqual(["file", "Databases"]);
    expect(grafanaMount("./grafana/dashboards"), "docker-compose.db.yml mounts ./grafana/dashboards into grafana").toBe(p.options.path);
    expect(grafanaMount("./grafana/provisioning")).toBe("/etc/grafana/provisioning");
  });
});
