import { describe, expect, it } from "vitest";
import { lintMetrics, withPromtool } from "../__fixtures__/promtool.js";
import { createMetrics } from "./metrics.js";
import { registerClusterMetrics } from "./cluster-metrics.js";
import { clusterViews, type ClusterMember, type ClusterView } from "../cluster/cluster-view.js";
import type { ProbeResult } from "../contract/probe-result.js";

const result = (target: string, over: Partial<ProbeResult> = {}): ProbeResult => ({
  target,
  driver: "postgres",
  endpoint: "postgres://db:5432/app",
  status: "up",
  role: "primary",
  detectedRole: "primary",
  readOnly: false,
  problems: [],
  phases: { connect: { ok: true, ms: 1 }, ping: { ok: true, ms: 0.5 } },
  attempts: 1,
  startedAt: 1_700_000_000_000,
  durationMs: 5,
  ...over,
});


describe("cluster metrics", () => {
  it("publishes members, members up and primaries per cluster, read at each scrape", async () => {
    const m = createMetrics({ legacyNames: false });
    let views: ClusterView[] = [];
    registerClusterMetrics(m.registry, () => views);
    const members: ClusterMember[] = [
      { target: "pg-a", cluster: "main", result: result("pg-a") },
      { target: "pg-b", cluster: "main", result: result("pg-b", { role: "replica", detectedRole: "replica" }) },
      { target: "pg-c", cluster: "main", result: result("pg-c") },
      { target: "pg-d", cluster: "main", result: result("pg-d", { status: "down", problems: ["x"], reason: "x" }) },
      { target: "my-1", cluster: "shop", result: result("my-1", { detectedRole: "replica" }) },
    ];
    views = clusterViews(members);
    const text = await m.render();
    expect(text).toContain('db_cluster_members{cluster="main"} 4');
    expect(text).toContain('db_cluster_members_up{cluster="main"} 3');
    expect(text).toContain('db_cluster_primaries{cluster="main"} 2');
    expect(text).toContain('db_cluster_primaries{cluster="shop"} 0');
    expect(text).toContain("# TYPE db_cluster_primaries gauge");

    // A cluster the views no longer hold has no series left.
    views = clusterViews(members.slice(0, 2));
    const after = await m.render();
    expect(after).toContain('db_cluster_primaries{cluster="main"} 1');
    expect(after).not.toContain('cluster="shop"');
  });

  withPromtool("passes promtool check metrics beside the per-target families", async () => {
    const m = createMetrics({ legacyNames: false });
    m.observe(result("pg-a"));
    registerClusterMetrics(m.registry, () => clusterViews([{ target: "pg-a", cluster: "main", result: result("pg-a") }]));
    expect(lintMetrics(await m.render())).toEqual({ status: 0, output: "" });
  });
});

describe("setStatus", () => {
  const L = 'db_name="postgres",db_role="primary",target="pg-a"';

  it("changes only db_status of an observed target", async () => {
    const m = createMetrics({ legacyNames: false });
    m.observe(result("pg-a"));
    const before = await m.render();
    m.setStatus("pg-a", "degraded");
    const text = await m.render();
    expect(text).toContain(`db_status{${L},status="degraded"} 1`);
    expect(text).toContain(`db_status{${L},status="up"} 0`);
    expect(text).toContain(`db_up{${L}} 1`);
    // Counters and histograms are not observed a second time.
    const without = (t: string): string => t.split("\n").filter((l) => !l.startsWith("db_status")).join("\n");
    expect(without(text)).toBe(without(before));
    m.setStatus("pg-a", "up");
    expect(await m.render()).toBe(before);
    expect(m.renderTarget("pg-a")).toContain(`db_status{${L},status="up"} 1`);
  });

  it("leaves a target without a result alone", async () => {
    const m = createMetrics({ legacyNames: false });
    m.declare({ target: "pg-b", driver: "postgres" });
    m.setStatus("pg-b", "degraded");
    m.setStatus("nobody", "degraded");
    const text = await m.render();
    expect(text).toContain('db_status{db_name="postgres",db_role="unknown",target="pg-b",status="unknown"} 1');
    expect(text).not.toContain("nobody");
  });
});
