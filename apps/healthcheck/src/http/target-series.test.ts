import { createMetrics } from "@alfred/db-health-core";
import { describe, expect, it } from "vitest";
import { promtoolFindings, result } from "./__fixtures__/http-fixtures.js";
import { labelValue, targetSeries } from "./target-series.js";

describe("targetSeries", () => {
  it("keeps one target's samples with their HELP/TYPE and drops other targets and build info", async () => {
    const m = createMetrics();
    m.observe(result({ target: "a" }));
    m.observe(result({ target: "b", driver: "mysql" }));
    const text = targetSeries(await m.render(), "a");
    expect(text).toContain('db_up{db_name="postgres",db_role="primary",target="a"} 1');
    expect(text).toContain("# TYPE db_probe_duration_seconds histogram");
    expect(text).toMatch(/db_probe_duration_seconds_bucket\{le="\+Inf",.*target="a",phase="ping"\} 1/);
    expect(text).toContain('db_probe_duration_seconds_count{db_name="postgres",db_role="primary",target="a",phase="ping"} 1');
    expect(text).not.toContain('target="b"');
    expect(text).not.toContain("db_health_check_build_info");
    // a family without a sample of this target (no lag: not a replica) is dropped whole
    expect(text).not.toContain("db_replication_lag_seconds");
    // every family's header appears exactly once, right before its samples
    const helps = text.split("\n").filter((l) => l.startsWith("# HELP "));
    expect(new Set(helps).size).toBe(helps.length);
  });

  it("returns nothing for a target without series", async () => {
    const m = createMetrics();
    m.observe(result({ target: "a" }));
    expect(targetSeries(await m.render(), "zzz")).toBe("");
  });

  it("is not fooled by a label value that contains target=\"…\"", () => {
    const text = [
      "# HELP x_total x",
      "# TYPE x_total counter",
      'x_total{note="target=\\"a\\"",target="b"} 1',
      'x_total{target="a",note="a\\\\b\\nc"} 2',
    ].join("\n");
    expect(targetSeries(text, "a")).toBe(`# HELP x_total x\n# TYPE x_total counter\nx_total{target="a",note="a\\\\b\\nc"} 2\n`);
    expect(labelValue('x_total{target="a",note="a\\\\b\\nc"} 2', "note")).toBe("a\\b\nc");
    expect(labelValue("x_total 2", "target")).toBeUndefined();
  });

  it("passes promtool check metrics apart from the legacy names", async (ctx) => {
    const m = createMetrics();
    m.observe(result({ target: "a" }));
    m.observe(result({ target: "b" }));
    const findings = promtoolFindings(targetSeries(await m.render(), "a"));
    if (!findings) return ctx.skip("promtool is not installed");
    expect(findings.filter((f) => !/^(db_read_latency_ms|db_write_latency_ms|db_connection_count) /.test(f))).toEqual([]);

    const clean = createMetrics({ legacyNames: false });
    clean.observe(result({ target: "a", role: "replica", lagSeconds: 0.5 }));
    expect(promtoolFindings(targetSeries(await clean.render(), "a"))).toEqual([]);
  });
});
