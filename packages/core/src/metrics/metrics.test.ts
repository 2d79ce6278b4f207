import { describe, expect, it } from "vitest";
import { Registry, type OpenMetricsContentType } from "prom-client";
import { createMetrics } from "./metrics.js";
import { havePromtool, lintMetrics, PROMTOOL, withPromtool } from "../__fixtures__/promtool.js";
import type { ProbeResult } from "../contract/probe-result.js";

const result = (over: Partial<ProbeResult> = {}): ProbeResult => ({
  target: "orders",
  driver: "postgres",
  endpoint: "postgres://app@db:5432/orders",
  status: "up",
  role: "primary",
  readOnly: false,
  problems: [],
  phases: {
    connect: { ok: true, ms: 3.25 },
    ping: { ok: true, ms: 0.412 },
    role: { ok: true, ms: 0.3 },
    write: { ok: true, ms: 1.875 },
    read: { ok: true, ms: 0.6125 },
  },
  attempts: 1,
  connections: 7,
  connectionsMax: 97,
  certificateExpiresAt: 1_800_000_000_000,
  startedAt: 1_700_000_000_000,
  durationMs: 6.5,
  ...over,
});


describe("metrics", () => {
  it("exports the seed's five metrics with float milliseconds and db_name/db_role/target labels", async () => {
    const m = createMetrics();
    m.observe(result());
    const text = await m.render();
    const L = 'db_name="postgres",db_role="primary",target="orders"';
    expect(text).toContain(`db_up{${L}} 1`);
    expect(text).toContain(`db_read_latency_ms{${L}} 0.6125`);
    expect(text).toContain(`db_write_latency_ms{${L}} 1.875`);
    expect(text).toContain(`db_connection_count{${L}} 7`);
    expect(text).toContain(`db_connections{${L}} 7`);
    expect(text).toContain(`db_connection_errors_total{${L}} 0`);
    expect(text).toContain(`db_status{${L},status="up"} 1`);
    expect(text).toContain(`db_status{${L},status="down"} 0`);
    expect(text).toContain(`db_status{${L},status="unknown"} 0`);
    expect(text).toContain(`db_probe_duration_seconds_bucket{le="0.001",${L},phase="ping"} 1`);
    expect(text).toContain(`db_probe_last_success_timestamp_seconds{${L}} 1700000000.0065`);
    expect(text).toMatch(/db_health_check_build_info\{version="\d+\.\d+\.\d+[^"]*"\} 1/);
    expect(text).not.toContain("endpoint");
  });

  it("keeps two targets of one engine apart with the target label", async () => {
    const m = createMetrics();
    m.observe(result({ target: "a" }));
    m.observe(result({ target: "b", status: "down", attempts: 4, phases: {}, connections: undefined }));
    const text = await m.render();
    expect(text).toContain('db_up{db_name="postgres",db_role="primary",target="a"} 1');
    expect(text).toContain('db_up{db_name="postgres",db_role="primary",target="b"} 0');
    expect(text).toContain('db_connection_errors_total{db_name="postgres",db_role="primary",target="b"} 4');
    // a down target has no latency or connection-count series
    expect(text).not.toContain('db_read_latency_ms{db_name="postgres",db_role="primary",target="b"}');
    expect(text).not.toContain('db_connection_count{db_name="postgres",db_role="primary",target="b"}');
  });

  it("moves a target's series when its role changes, leaving no stale series", async () => {
    const m = createMetrics();
    m.observe(result());
    m.observe(result({ role: "replica", lagSeconds: 0.25 }));
    const text = await m.render();
    expect(text).not.toContain('db_role="primary"');
    expect(text).toContain('db_replication_lag_seconds{db_name="postgres",db_role="replica",target="orders"} 0.25');
    m.forget("orders");
    expect(await m.render()).not.toContain('target="orders"');
  });

  it("drops the _ms names with legacyNames: false", async () => {
    const m = createMetrics({ legacyNames: false });
    m.observe(result());
    const text = await m.render();
    expect(text).not.toContain("_ms");
    expect(text).not.toContain("db_connection_count");
    expect(text).toContain("db_up{");
  });

  it("uses its own registry, never prom-client's global one", async () => {
    const { register } = await import("prom-client");
    createMetrics().observe(result());
    expect(await register.metrics()).not.toContain("db_up");
  });

  withPromtool("passes promtool check metrics: clean without legacy names, only the _ms lint with them", async () => {
    if (!havePromtool) throw new Error(`promtool not found (${PROMTOOL}); .ci/run installs Debian's prometheus package`);
    const clean = createMetrics({ legacyNames: false });
    clean.observe(result());
    clean.observe(result({ target: "replica-1", role: "replica", lagSeconds: 0.5 }));
    const strict = lintMetrics(await clean.render());
    expect(strict.output).toBe("");
    expect(strict.status).toBe(0);

    const legacy = createMetrics();
    legacy.observe(result());
    const findings = lintMetrics(await legacy.render()).output.split("\n").filter(Boolean);
    expect(findings.sort()).toEqual([
      'db_connection_count non-histogram and non-summary metrics should not have "_count" suffix',
      "db_read_latency_ms metric names should not contain abbreviated units",
      "db_write_latency_ms metric names should not contain abbreviated units",
    ]);
  });

  describe("targets declared before their first result", () => {
    const L = 'db_name="postgres",db_role="unknown",target="orders"';

    it("are on the first scrape: db_up 0, db_status unknown, no error yet", async () => {
      const m = createMetrics();
      m.declare({ target: "orders", driver: "postgres" });
      const text = await m.render();
      expect(text).toContain(`db_up{${L}} 0`);
      for (const [state, value] of [["up", 0], ["degraded", 0], ["down", 0], ["unknown", 1]] as const) {
        expect(text).toContain(`db_status{${L},status="${state}"} ${value}`);
      }
      expect(text).toContain(`db_connection_errors_total{${L}} 0`);
      // nothing measured yet: no latency, count or histogram series
      expect(text).not.toMatch(/db_(read_latency_ms|connections|probe_duration_seconds_count|probe_last_success_timestamp_seconds)\{/);
      const slice = m.renderTarget("orders");
      expect(slice).toContain(`db_up{${L}} 0`);
      expect(slice).toContain(`db_status{${L},status="unknown"} 1`);
      expect(m.renderTarget("orders")).toBe(slice);
    });

    it("give way to the first result, under its role, leaving no stale series", async () => {
      const m = createMetrics();
      m.declare({ target: "orders", driver: "postgres" });
      m.declare({ target: "replica-1", driver: "postgres", role: "replica" });
      m.observe(result());
      m.observe(result({ target: "replica-1", role: "replica", status: "down", attempts: 2, phases: {}, connections: undefined }));
      const text = await m.render();
      expect(text).not.toContain('db_role="unknown"');
      const P = 'db_name="postgres",db_role="primary",target="orders"';
      const R = 'db_name="postgres",db_role="replica",target="replica-1"';
      expect(text).toContain(`db_up{${P}} 1`);
      expect(text).toContain(`db_status{${P},status="up"} 1`);
      expect(text).toContain(`db_status{${P},status="unknown"} 0`);
      expect(text).toContain(`db_status{${R},status="down"} 1`);
      expect(text).toContain(`db_status{${R},status="unknown"} 0`);
      expect(text).toContain(`db_connection_errors_total{${R}} 2`);
      // a target with a result is not declared again (a reload re-declaring every target)
      m.declare({ target: "orders", driver: "postgres" });
      expect(await m.render()).toBe(text);
      m.forget("replica-1");
      expect(await m.render()).not.toContain("replica-1");
    });

    it("print what prom-client prints, and lint clean", async () => {
      const m = createMetrics({ legacyNames: false });
      m.declare({ target: "a", driver: "postgres" });
      m.declare({ target: "b", driver: "mysql", role: "primary" });
      m.observe(result({ target: "b", driver: "mysql" }));
      m.declare({ target: "c", driver: "sqlite" });
      m.observe(result({ target: "c", driver: "sqlite", role: "unknown", status: "degraded" }));
      const families = (text: string): string[] => text.trim().split("\n").sort();
      expect(families(await m.render())).toEqual(families(await m.registry.metrics()));
      if (havePromtool) expect(lintMetrics(await m.render())).toEqual({ status: 0, output: "" });
    });
  });

  describe("runtime metrics", () => {
    it("are off by default and, when asked, on the metrics' own registry only", async () => {
      expect(await createMetrics().render()).not.toContain("process_cpu_user_seconds_total");
      const m = createMetrics({ runtimeMetrics: true });
      const text = await m.render();
      for (const name of ["process_cpu_user_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes"]) {
        expect(text).toContain(`\n${name} `);
      }
      expect(text).toContain(`nodejs_version_info{version="${process.version}"`);
      const { register } = await import("prom-client");
      expect(await register.metrics()).not.toContain("process_cpu_user_seconds_total");
    });

    it("keep render()'s redaction and the per-target text, and stay out of renderTarget()", async () => {
      const { Gauge } = await import("prom-client");
      const m = createMetrics({ runtimeMetrics: true, legacyNames: false });
      new Gauge({ name: "child_running", help: "x", labelNames: ["command"], registers: [m.registry] }).set({ command: "run --dsn postgres://u:hunter22@db/x" }, 1);
      m.declare({ target: "a", driver: "postgres" });
      m.observe(result({ target: "b" }));
      const text = await m.render();
      expect(text).not.toContain("hunter22");
      expect(text).toContain('db_up{db_name="postgres",db_role="primary",target="b"} 1');
      expect(text).toContain('db_status{db_name="postgres",db_role="unknown",target="a",status="unknown"} 1');
      // the db-health families, rendered from the cache, are what prom-client prints
      const ours = (t: string): string[] => t.split("\n").filter((l) => /^(# (HELP|TYPE) )?db_/.test(l)).sort();
      expect(ours(text)).toEqual(ours(await m.registry.metrics()));
      for (const slice of [m.renderTarget("a"), m.renderTarget("b")]) {
        expect(slice).not.toMatch(/process_|nodejs_|child_running|build_info/);
        expect(slice).toContain("db_up{");
      }
    });

    it("lint clean with promtool (legacy names off), next to every db-health family", async () => {
      if (!havePromtool) return;
      const m = createMetrics({ runtimeMetrics: true, legacyNames: false, buildInfo: { version: "1.2.3", revision: "3f2c1ab", nodeversion: process.version } });
      m.declare({ target: "a", driver: "postgres" });
      m.observe(result({ target: "b" }));
      m.observe(result({ target: "c", role: "replica", lagSeconds: 0.5 }));
      const text = await m.render();
      expect(text).toContain(`db_health_check_build_info{version="1.2.3",revision="3f2c1ab",nodeversion="${process.version}"} 1`);
      expect(lintMetrics(text)).toEqual({ status: 0, output: "" });
    });

    it("are not registered twice on a registry that has them already", async () => {
      const { Registry, collectDefaultMetrics } = await import("prom-client");
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      expect(() => createMetrics({ registry, runtimeMetrics: true })).not.toThrow();
      expect((await registry.metrics()).match(/^# TYPE process_cpu_user_seconds_total /gm)).toHaveLength(1);
    });
  });

  describe("render() formats each target's lines itself", () => {
    // prom-client's own rendering is the reference; series order inside a family may differ
    // (prom-client appends a series where it was first set), so lines are compared per family.
    const families = (text: string): Array<[string, string[]]> =>
      text.trim().split("\n\n").map((f) => {
        const lines = f.split("\n");
        return [lines.slice(0, 2).join("\n"), lines.slice(2).sort()];
      });

    it("prints what registry.metrics() prints, across reconnects, failures, role changes and forget", async () => {
      for (const legacyNames of [true, false]) {
        const m = createMetrics({ legacyNames, buildInfo: { version: "1.2.3", commit: 'a"b\\c' } });
        const steps: Array<() => void> = [
          () => m.declare({ target: "a", driver: "postgres" }),
          () => m.observe(result({ target: "a" })),
          () => m.observe(result({ target: "b", driver: "sqlite", status: "down", attempts: 4, phases: { connect: { ok: false, ms: 5000 } }, connections: undefined })),
          () => m.observe(result({ target: "a", phases: { ping: { ok: true, ms: 0.00001 }, read: { ok: true, ms: 12_000 } } })),
          () => m.observe(result({ target: "b", driver: "sqlite", status: "degraded", phases: { ping: { ok: true, ms: 0.007 }, write: { ok: false, ms: 2 } } })),
          () => m.observe(result({ target: "c", role: "replica", lagSeconds: 1.5, status: "degraded" })),
          () => m.observe(result({ target: "c", role: "primary" })),
          () => m.setStatus("c", "degraded"),
          () => m.observe(result({ target: "d" })),
          () => m.forget("d"),
        ];
        // prom-client's store is filled from render()'s when it is read: read after every step,
        // nothing of an earlier read may stay behind (a forgotten target, a role left, a count).
        for (const step of steps) {
          step();
          expect(families(await m.render())).toEqual(families(await m.registry.metrics()));
        }
      }
    });

    it("puts the registry's default labels on every series, as prom-client does, also when set later", async () => {
      // label order inside braces does not matter to Prometheus: compare label sets
      const normal = (text: string): Array<[string, string[]]> =>
        families(text).map(([head, lines]) => [head, lines.map((l) => l.replace(/\{([^}]*)\}/, (_, inner: string) => `{${inner.split(/,(?=[a-z_]+=")/).sort().join(",")}}`)).sort()]);
      const { Registry } = await import("prom-client");
      const registry = new Registry();
      registry.setDefaultLabels({ region: "eu-1", target: "never-overrides" });
      const m = createMetrics({ registry });
      m.observe(result({ target: "a" }));
      expect(await m.render()).toContain('db_up{db_name="postgres",db_role="primary",target="a",region="eu-1"} 1');
      expect(normal(await m.render())).toEqual(normal(await registry.metrics()));
      registry.setDefaultLabels({ zone: "z" });
      m.observe(result({ target: "b" }));
      expect(normal(await m.render())).toEqual(normal(await registry.metrics()));
      expect(m.renderTarget("a")).toContain('db_up{db_name="postgres",db_role="primary",target="a",zone="z"} 1');
    });

    it("includes other metrics registered on the registry, redacted", async () => {
      const { Gauge } = await import("prom-client");
      const m = createMetrics();
      new Gauge({ name: "child_running", help: "x", labelNames: ["command"], registers: [m.registry] }).set({ command: "run --dsn postgres://u:hunter22@db/x" }, 1);
      m.observe(result());
      const text = await m.render();
      expect(text).toContain('child_running{command="run --dsn postgres://u:***@db/x"} 1');
      expect(text).not.toContain("hunter22");
    });

    it("shows a cycle in the next render", async () => {
      const m = createMetrics();
      m.observe(result());
      expect(await m.render()).toContain('db_up{db_name="postgres",db_role="primary",target="orders"} 1');
      m.observe(result({ status: "down", phases: {} }));
      expect(await m.render()).toContain('db_up{db_name="postgres",db_role="primary",target="orders"} 0');
    });

    it("renderTarget() is that target's slice of render()", async () => {
      const m = createMetrics();
      m.observe(result({ target: "a" }));
      m.observe(result({ target: "b", lagSeconds: 2 }));
      const a = m.renderTarget("a");
      expect(a).toContain('target="a"');
      expect(a).not.toContain('target="b"');
      expect(a).not.toContain("db_replication_lag_seconds");
      expect(a).not.toContain("build_info");
      expect(m.renderTarget("b")).toContain('db_replication_lag_seconds{db_name="postgres",db_role="primary",target="b"} 2');
      expect(m.renderTarget("zzz")).toBe("");
      // histogram samples kept, and every family's header once, right before its samples
      expect(a).toContain('db_probe_duration_seconds_count{db_name="postgres",db_role="primary",target="a",phase="ping"} 1');
      const helps = a.split("\n").filter((l) => l.startsWith("# HELP "));
      expect(new Set(helps).size).toBe(helps.length);
      for (const help of helps) expect(a.split("\n")[a.split("\n").indexOf(help) + 1]).toMatch(/^# TYPE /);
      // the families in render()'s order, and only those still on the registry
      const slice = (text: string): string[] => text.split("\n").filter((l) => l.includes('target="a"'));
      expect(slice(a)).toEqual(slice(await m.render()));
      const up = m.registry.getSingleMetric("db_up")!;
      m.registry.removeSingleMetric("db_up");
      expect(m.renderTarget("a")).not.toContain("db_up");
      expect(slice(m.renderTarget("a"))).toEqual(slice(await m.render()));
      // registered again: back in both, at the registry's end
      m.registry.registerMetric(up);
      expect(m.renderTarget("a")).toContain("db_up{");
      expect(slice(m.renderTarget("a"))).toEqual(slice(await m.render()));
    });

    it("renderTarget() keeps the counter after an OpenMetrics registry rendered it (prom-client renames the object)", async () => {
      const registry = new Registry<OpenMetricsContentType>();
      registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
      const m = createMetrics({ registry: registry as unknown as Registry });
      m.observe(result({ target: "a", status: "down", attempts: 3 }));
      const before = m.renderTarget("a");
      expect(before).toContain('db_connection_errors_total{db_name="postgres",db_role="primary",target="a"} 3');
      await m.render();
      expect(m.renderTarget("a")).toBe(before);
    });
  });

  describe("prom-client's copy, filled when the registry is read", () => {
    const lines = (text: string, target: string): string[] => text.split("\n").filter((l) => l.includes(`target="${target}"`)).sort();

    it("gives each target its own histogram when two target names redact alike", async () => {
      // Both are target="api-key:***": one series to prom-client, as observe() made it before.
      const m = createMetrics({ buckets: [0.01, 1] });
      m.observe(result({ target: "api-key:eu", phases: { connect: { ok: true, ms: 3 } } }));
      m.observe(result({ target: "api-key:us", phases: { connect: { ok: true, ms: 3 }, ping: { ok: true, ms: 3 } } }));
      m.observe(result({ target: "orders", phases: { connect: { ok: true, ms: 4000 } } }));
      const registry = await m.registry.metrics();
      expect(lines(registry, "orders")).toEqual(lines(await m.render(), "orders"));
      expect(registry).toContain('db_probe_duration_seconds_bucket{le="+Inf",db_name="postgres",db_role="primary",target="orders",phase="connect"} 1');
      expect(registry).toContain('db_probe_duration_seconds_sum{db_name="postgres",db_role="primary",target="orders",phase="connect"} 4');
      expect(registry).toContain('db_probe_duration_seconds_count{db_name="postgres",db_role="primary",target="api-key:***",phase="connect"} 2');
      expect(registry).toContain('db_probe_duration_seconds_count{db_name="postgres",db_role="primary",target="api-key:***",phase="ping"} 1');
    });

    it("refuses a value that is no number, as prom-client did, and stays readable", async () => {
      const m = createMetrics();
      m.observe(result({ target: "good" }));
      const bad = (over: Partial<ProbeResult>): ProbeResult => ({ ...result({ target: "bad" }), ...over }) as ProbeResult;
      expect(() => m.observe(bad({ connections: "5" as unknown as number }))).toThrow(TypeError);
      expect(() => m.observe(bad({ connections: null as unknown as number }))).toThrow(TypeError);
      expect(() => m.observe(bad({ phases: { ping: { ok: true, ms: Number.POSITIVE_INFINITY } } }))).toThrow(TypeError);
      const registry = await m.registry.metrics();
      expect(registry).toContain('target="good"');
      expect(registry).not.toContain('target="bad"');
      expect(await m.render()).not.toContain('target="bad"');
    });

    it("keeps one bucket per distinct bound", async () => {
      const m = createMetrics({ buckets: [0.5, 0.1, 0.1] });
      m.observe(result({ phases: { ping: { ok: true, ms: 50 } } }));
      const text = await m.render();
      expect(lines(text, "orders").filter((l) => l.startsWith("db_probe_duration_seconds_bucket"))).toEqual([
        'db_probe_duration_seconds_bucket{le="+Inf",db_name="postgres",db_role="primary",target="orders",phase="ping"} 1',
        'db_probe_duration_seconds_bucket{le="0.1",db_name="postgres",db_role="primary",target="orders",phase="ping"} 1',
        'db_probe_duration_seconds_bucket{le="0.5",db_name="postgres",db_role="primary",target="orders",phase="ping"} 1',
      ]);
      expect(lines(await m.registry.metrics(), "orders")).toEqual(lines(text, "orders"));
    });
  });
});
