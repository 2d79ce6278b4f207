import { describe, expect, it } from "vitest";
import { applyClusterView, clusterViews, type ClusterMember } from "./cluster-view.js";
import type { ProbeResult } from "../contract/probe-result.js";
import type { Role, Status } from "../contract/types.js";

const NOW = 1_800_000_000_000;

/** A finished result: ended `ageMs` before NOW, detected `detected` (none: the role phase failed). */
function result(target: string, status: Status, detected: Role | undefined, extra: Partial<ProbeResult> & { ageMs?: number } = {}): ProbeResult {
  const { ageMs = 0, ...rest } = extra;
  return {
    target,
    driver: "postgres",
    endpoint: "postgres://127.0.0.1:5432/postgres",
    status,
    role: detected ?? "unknown",
    ...(detected ? { detectedRole: detected } : {}),
    readOnly: false,
    problems: status === "up" ? [] : [`${target} is ${status}`],
    ...(status === "up" ? {} : { reason: `${target} is ${status}` }),
    phases: {},
    attempts: 1,
    startedAt: NOW - ageMs - 10,
    durationMs: 10,
    ...rest,
  };
}

const member = (r: ProbeResult | undefined, cluster = "main", maxAgeMs?: number, target = r?.target ?? "x"): ClusterMember => ({
  target,
  cluster,
  result: r,
  ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
});

describe("clusterViews", () => {
  it("one primary and a replica: ok", () => {
    const [view] = clusterViews([member(result("a", "up", "primary")), member(result("b", "up", "replica"))], NOW);
    expect(view).toEqual({ cluster: "main", members: 2, membersUp: 2, primaries: ["a"], state: "ok" });
  });

  it("two primaries: split brain, naming both, sorted", () => {
    const [view] = clusterViews([member(result("pg-z", "up", "primary")), member(result("pg-r", "up", "replica")), member(result("pg-a", "up", "primary"))], NOW);
    expect(view).toMatchObject({ members: 3, membersUp: 3, primaries: ["pg-a", "pg-z"], state: "split-brain", problem: "2 primaries in cluster main (pg-a, pg-z)" });
  });

  it("names at most three primaries and counts the rest", () => {
    const [view] = clusterViews(["e", "d", "c", "b", "a"].map((t) => member(result(t, "up", "primary"))), NOW);
    expect(view?.problem).toBe("5 primaries in cluster main (a, b, c and 2 more)");
  });

  it("a degraded primary counts: it is reachable and says it is a primary", () => {
    const [view] = clusterViews([member(result("a", "degraded", "primary")), member(result("b", "up", "primary"))], NOW);
    expect(view?.state).toBe("split-brain");
  });

  it("a down member is neither up nor a primary, whatever it detected before", () => {
    const [view] = clusterViews([member(result("a", "down", undefined, { role: "primary" })), member(result("b", "up", "primary"))], NOW);
    expect(view).toMatchObject({ membersUp: 1, primaries: ["b"], state: "ok" });
  });

  it("counts the detected role, not the configured one (ProbeResult.role)", () => {
    // Configured primary, node reports a replica: the label says primary, the node does not.
    const configuredPrimary = result("a", "degraded", "replica", { role: "primary" });
    // Configured replica, node reports a primary: a primary all the same.
    const configuredReplica = result("b", "degraded", "primary", { role: "replica" });
    const [view] = clusterViews([member(configuredPrimary), member(configuredReplica), member(result("c", "up", "primary"))], NOW);
    expect(view).toMatchObject({ primaries: ["b", "c"], state: "split-brain" });
  });

  it("a failed role check (no detectedRole) or an unknown role is no primary", () => {
    const noRole = result("a", "degraded", undefined, { role: "primary" });
    const unknown = result("b", "up", "unknown");
    const [view] = clusterViews([member(noRole), member(unknown)], NOW);
    expect(view).toMatchObject({ membersUp: 2, primaries: [], state: "no-primary" });
  });

  it("members up without a primary: no-primary, and no problem for the members", () => {
    const [view] = clusterViews([member(result("a", "up", "replica")), member(result("b", "up", "replica"))], NOW);
    expect(view).toEqual({ cluster: "main", members: 2, membersUp: 2, primaries: [], state: "no-primary" });
  });

  it("no member up, or no result yet: down", () => {
    const [view] = clusterViews([member(undefined, "main", undefined, "a"), member(result("b", "down", undefined))], NOW);
    expect(view).toEqual({ cluster: "main", members: 2, membersUp: 0, primaries: [], state: "down" });
  });

  it("a primary's result older than its maxAgeMs no longer counts; the view says when the next one expires", () => {
    const old = result("a", "up", "primary", { ageMs: 60_000 });
    const fresh = result("b", "up", "primary", { ageMs: 1_000 });
    const [view] = clusterViews([member(old, "main", 30_000), member(fresh, "main", 30_000)], NOW);
    expect(view).toMatchObject({ membersUp: 2, primaries: ["b"], state: "ok", expiresAt: NOW - 1_000 + 30_000 });
    // Exactly at the limit it no longer counts.
    const [edge] = clusterViews([member(result("a", "up", "primary", { ageMs: 30_000 }), "main", 30_000)], NOW);
    expect(edge).toMatchObject({ primaries: [], state: "no-primary" });
    expect(edge).not.toHaveProperty("expiresAt");
  });

  it("without maxAgeMs every result counts, however old (one-shot runs)", () => {
    const [view] = clusterViews([member(result("a", "up", "primary", { ageMs: 86_400_000 })), member(result("b", "up", "primary"))], NOW);
    expect(view).toMatchObject({ state: "split-brain" });
    expect(view).not.toHaveProperty("expiresAt");
  });

  it("keeps clusters apart, in order of first appearance", () => {
    const views = clusterViews(
      [
        member(result("b1", "up", "primary"), "blue"),
        member(result("a1", "up", "primary"), "amber"),
        member(result("b2", "up", "primary"), "blue"),
        member(result("a2", "up", "replica"), "amber"),
      ],
      NOW,
    );
    expect(views.map((v) => [v.cluster, v.state, v.primaries])).toEqual([
      ["blue", "split-brain", ["b1", "b2"]],
      ["amber", "ok", ["a1"]],
    ]);
  });

  it("no members, no views", () => {
    expect(clusterViews([], NOW)).toEqual([]);
  });
});

describe("applyClusterView", () => {
  const [split] = clusterViews([member(result("a", "up", "primary")), member(result("b", "up", "primary"))], NOW);

  it("makes an up member degraded with the problem as its reason", () => {
    const r = result("c", "up", "replica");
    expect(applyClusterView(r, split)).toMatchObject({ status: "degraded", reason: "2 primaries in cluster main (a, b)", problems: ["2 primaries in cluster main (a, b)"] });
    expect(r.status).toBe("up");
  });

  it("keeps a degraded member's own reason first", () => {
    const r = result("a", "degraded", "primary");
    expect(applyClusterView(r, split)).toMatchObject({ status: "degraded", reason: "a is degraded", problems: ["a is degraded", "2 primaries in cluster main (a, b)"] });
  });

  it("leaves a down member down and unchanged", () => {
    const r = result("d", "down", undefined);
    expect(applyClusterView(r, split)).toBe(r);
  });

  it("changes nothing without a problem, without a view, or when applied twice", () => {
    const r = result("a", "up", "primary");
    const [ok] = clusterViews([member(r)], NOW);
    expect(applyClusterView(r, ok)).toBe(r);
    expect(applyClusterView(r, undefined)).toBe(r);
    const once = applyClusterView(r, split);
    expect(applyClusterView(once, split)).toBe(once);
  });
});
