import { afterEach, describe, expect, it, vi } from "vitest";
import { resolveTargetConfig, type ClusterState, type ClusterView, type ProbeResult, type Role, type Status, type TargetConfig } from "@alfred/db-health-core";
import { applyClusters, clusterLine, createClusterBoard, resultLifetimeMs } from "./cluster.js";

const config = (name: string, cluster?: string): TargetConfig => resolveTargetConfig({ dsn: "postgres://app@db:5432/app", name, interval: "1s", ...(cluster ? { cluster } : {}) });

function result(target: string, status: Status, detected?: Role): ProbeResult {
  return {
    target,
    driver: "postgres",
    endpoint: "postgres://db:5432/app",
    status,
    role: detected ?? "unknown",
    ...(detected ? { detectedRole: detected } : {}),
    readOnly: false,
    problems: status === "down" ? ["connect failed"] : [],
    ...(status === "down" ? { reason: "connect failed" } : {}),
    phases: {},
    attempts: 1,
    startedAt: Date.now(),
    durationMs: 1,
  };
}

/** A board over the configs that records what it publishes and the state changes. */
function board(configs: TargetConfig[]) {
  const published: Array<[string, Status, boolean, string | undefined]> = [];
  const states: Array<[string, ClusterState, ClusterState | undefined]> = [];
  const b = createClusterBoard({
    configs,
    publish: (r, cycle) => void published.push([r.target, r.status, cycle, r.reason]),
    stateChanged: (v, from) => void states.push([v.cluster, v.state, from]),
  });
  const take = <T>(list: T[]): T[] => list.splice(0);
  return { b, published: () => take(published), states: () => take(states) };
}

afterEach(() => void vi.useRealTimers());

describe("createClusterBoard", () => {
  it("publishes a target outside any cluster as it is", () => {
    const { b, published, states } = board([config("solo"), config("a", "main")]);
    b.record(result("solo", "up", "primary"));
    expect(published()).toEqual([["solo", "up", true, undefined]]);
    expect(states()).toEqual([]);
  });

  it("degrades every member when a second primary appears, and clears them all when it goes down", () => {
    const { b, published, states } = board([config("pg-a", "main"), config("pg-b", "main"), config("pg-c", "main"), config("solo")]);
    b.record(result("pg-a", "up", "primary"));
    b.record(result("pg-b", "up", "replica"));
    expect(published()).toEqual([
      ["pg-a", "up", true, undefined],
      ["pg-b", "up", true, undefined],
    ]);
    // The state is told once every member has a result (start-up passes through partial views).
    expect(states()).toEqual([]);
    b.record(result("pg-c", "up", "primary"));
    const problem = "2 primaries in cluster main (pg-a, pg-c)";
    expect(published()).toEqual([
      ["pg-a", "degraded", false, problem],
      ["pg-b", "degraded", false, problem],
      ["pg-c", "degraded", true, problem],
    ]);
    expect(states()).toEqual([["main", "split-brain", undefined]]);
    expect(b.views()).toMatchObject([{ cluster: "main", members: 3, membersUp: 3, primaries: ["pg-a", "pg-c"], state: "split-brain" }]);

    // The same view again: only the arriving member's cycle is published, nothing is logged.
    b.record(result("pg-b", "up", "replica"));
    expect(published()).toEqual([["pg-b", "degraded", true, problem]]);
    expect(states()).toEqual([]);

    // The second primary goes down: it no longer counts, the others are up again at once.
    b.record(result("pg-c", "down"));
    expect(published()).toEqual([
      ["pg-a", "up", false, undefined],
      ["pg-b", "up", false, undefined],
      ["pg-c", "down", true, "connect failed"],
    ]);
    expect(states()).toEqual([["main", "ok", "split-brain"]]);
    expect(b.views()).toMatchObject([{ membersUp: 2, primaries: ["pg-a"], state: "ok" }]);
  });

  it("tells a split brain at once, even before every member has a result", () => {
    const { b, states } = board([config("a", "main"), config("b", "main"), config("c", "main")]);
    b.record(result("a", "up", "primary"));
    b.record(result("b", "up", "primary"));
    expect(states()).toEqual([["main", "split-brain", undefined]]);
  });

  it("reports no primary without degrading anyone", () => {
    const { b, published, states } = board([config("a", "main"), config("b", "main")]);
    b.record(result("a", "up", "replica"));
    b.record(result("b", "up", "replica"));
    expect(published().map(([t, s]) => [t, s])).toEqual([
      ["a", "up"],
      ["b", "up"],
    ]);
    expect(states()).toEqual([["main", "no-primary", undefined]]);
  });

  it("keeps clusters apart", () => {
    const { b, published } = board([config("a1", "amber"), config("a2", "amber"), config("b1", "blue"), config("b2", "blue")]);
    b.record(result("a1", "up", "primary"));
    b.record(result("b1", "up", "primary"));
    b.record(result("b2", "up", "primary"));
    expect(published().map(([t, s, cycle]) => [t, s, cycle])).toEqual([
      ["a1", "up", true],
      ["b1", "up", true],
      ["b1", "degraded", false],
      ["b2", "degraded", true],
    ]);
    expect(b.views().map((v) => [v.cluster, v.state])).toEqual([
      ["amber", "ok"],
      ["blue", "split-brain"],
    ]);
  });

  it("looks at the other members only when the view's problem changes, not on every cycle of a large cluster", () => {
    const names = Array.from({ length: 200 }, (_, i) => `m${i}`);
    const { b, published } = board(names.map((n) => config(n, "big")));
    // Counts how often a result's problems are read (applyClusterView reads them; clusterViews does not).
    let reads = 0;
    const counted = (r: ProbeResult): ProbeResult => {
      const problems = r.problems;
      return Object.defineProperty({ ...r }, "problems", { enumerable: true, get: () => (reads++, problems) });
    };
    for (const [i, n] of names.entries()) b.record(counted(result(n, "up", i < 2 ? "primary" : "replica")));
    expect(published().filter(([, s]) => s === "degraded")).toHaveLength(200);
    // A split brain that stays: 200 more cycles re-show nobody else and read no other member's result.
    reads = 0;
    for (const n of names) b.record(counted(result(n, "up", n === "m0" || n === "m1" ? "primary" : "replica")));
    expect(published().map(([, , cycle]) => cycle)).toEqual(names.map(() => true));
    expect(reads).toBeLessThanOrEqual(5 * names.length); // the arriving result only (120,000 when every member was re-applied)
    // The second primary goes down: every other member is shown again at once.
    b.record(result("m1", "down"));
    expect(published().filter(([, s, cycle]) => s === "up" && !cycle)).toHaveLength(199);
  });

  it("a switchover is no split brain: an older primary claim contradicted by a newer one is re-probed before it counts again", () => {
    vi.useFakeTimers({ now: 1_800_000_000_000 });
    const confirms: string[][] = [];
    const states: Array<[ClusterState, ClusterState | undefined]> = [];
    const published: Array<[string, Status, boolean]> = [];
    // a is probed hourly (or its demotion, online on MySQL/MariaDB, lost no connection): its last
    // result, from before the switchover, still says primary when b's first cycle as a primary ends.
    const b = createClusterBoard({
      configs: [resolveTargetConfig({ dsn: "postgres://app@db:5432/app", name: "a", interval: "1h", cluster: "main" }), config("b", "main")],
      publish: (r, cycle) => void published.push([r.target, r.status, cycle]),
      stateChanged: (v, from) => void states.push([v.state, from]),
      confirm: (targets) => void confirms.push([...targets]),
    });
    b.record(result("a", "up", "primary"));
    vi.advanceTimersByTime(1000);
    b.record(result("b", "up", "replica"));
    vi.advanceTimersByTime(1000);
    b.record(result("b", "up", "primary")); // promoted; a was demoted meanwhile
    expect(confirms).toEqual([["a"]]);
    expect(b.views()).toMatchObject([{ primaries: ["b"], state: "ok" }]);
    expect(published.filter(([, s]) => s === "degraded")).toEqual([]);
    // The re-probe of a: a replica now. Never a split brain.
    b.record(result("a", "up", "replica"));
    expect(b.views()).toMatchObject([{ primaries: ["b"], state: "ok" }]);
    expect(states).toEqual([["ok", undefined]]);
    expect(published.filter(([, s]) => s === "degraded")).toEqual([]);

    // A real split brain: the re-probe confirms, and only then every member is degraded; the
    // confirming result asks for no further re-probe (no ping-pong between two primaries).
    vi.advanceTimersByTime(1000);
    b.record(result("a", "up", "primary"));
    expect(confirms).toEqual([["a"], ["b"]]);
    expect(b.views()).toMatchObject([{ primaries: ["a"], state: "ok" }]);
    vi.advanceTimersByTime(10);
    b.record(result("b", "up", "primary"));
    expect(confirms).toHaveLength(2);
    expect(b.views()).toMatchObject([{ primaries: ["a", "b"], state: "split-brain" }]);
    expect(states.at(-1)).toEqual(["split-brain", "ok"]);
    b.record(result("a", "up", "primary"));
    b.record(result("b", "up", "primary"));
    expect(confirms).toHaveLength(2);
    expect(b.views()).toMatchObject([{ state: "split-brain" }]);
    b.close();
  });

  it("without confirm (no way to re-probe) a newer primary claim makes a split brain at once", () => {
    const { b, states } = board([config("a", "main"), config("b", "main")]);
    b.record(result("a", "up", "primary"));
    b.record(result("b", "up", "primary"));
    expect(states()).toEqual([["main", "split-brain", undefined]]);
  });

  it("lists every cluster before any result, as down with no member up", () => {
    const { b } = board([config("a", "main")]);
    expect(b.views()).toEqual([{ cluster: "main", members: 1, membersUp: 0, primaries: [], state: "down" }]);
  });

  it("stops counting a primary whose result got too old, without waiting for another cycle", () => {
    vi.useFakeTimers({ now: 1_800_000_000_000 });
    const configs = [config("a", "main"), config("b", "main")];
    const { b, published, states } = board(configs);
    b.record(result("a", "up", "primary"));
    b.record(result("b", "up", "primary"));
    published();
    states();
    // b keeps reporting; a's cycles stop coming (stuck): once a's result is too old it no longer counts.
    const lifetime = resultLifetimeMs(configs[0]!);
    vi.advanceTimersByTime(lifetime / 2);
    b.record(result("b", "up", "primary"));
    published();
    vi.advanceTimersByTime(lifetime / 2 + 10);
    expect(published()).toEqual([
      ["a", "up", false, undefined],
      ["b", "up", false, undefined],
    ]);
    expect(states()).toEqual([["main", "ok", "split-brain"]]);
    expect(b.views()).toMatchObject([{ membersUp: 2, primaries: ["b"] }]);
    b.close();
  });
});

describe("applyClusters (--once)", () => {
  it("applies each member's cluster view, in the given order, and returns the views", () => {
    const configs = [config("solo"), config("a", "main"), config("b", "main"), config("c", "main")];
    const results = [result("solo", "up", "primary"), result("a", "up", "primary"), result("b", "down"), result("c", "up", "primary")];
    const { results: shown, views } = applyClusters(configs, results);
    expect(shown.map((r) => [r.target, r.status, r.reason])).toEqual([
      ["solo", "up", undefined],
      ["a", "degraded", "2 primaries in cluster main (a, c)"],
      ["b", "down", "connect failed"],
      ["c", "degraded", "2 primaries in cluster main (a, c)"],
    ]);
    expect(views).toEqual([{ cluster: "main", members: 3, membersUp: 2, primaries: ["a", "c"], state: "split-brain", problem: "2 primaries in cluster main (a, c)" }]);
  });

  it("changes nothing without clusters", () => {
    const results = [result("solo", "up", "primary")];
    expect(applyClusters([config("solo")], results)).toEqual({ results, views: [] });
  });
});

describe("clusterLine", () => {
  const view = (over: Partial<ClusterView>): ClusterView => ({ cluster: "main", members: 3, membersUp: 3, primaries: [], state: "no-primary", ...over });
  it.each<[Partial<ClusterView>, string]>([
    [{ primaries: ["a", "c"], state: "split-brain" }, "cluster main: split brain: 2 primaries (a, c), 3 of 3 members up"],
    [{ primaries: ["a"], state: "ok" }, "cluster main: ok: 1 primary (a), 3 of 3 members up"],
    [{ membersUp: 2 }, "cluster main: no primary: no primary, 2 of 3 members up"],
    [{ membersUp: 0, state: "down" }, "cluster main: no member up: no primary, 0 of 3 members up"],
    [{ members: 5, membersUp: 5, primaries: ["a", "b", "c", "d", "e"], state: "split-brain" }, "cluster main: split brain: 5 primaries (a, b, c and 2 more), 5 of 5 members up"],
  ])("%j", (over, line) => {
    expect(clusterLine(view(over))).toBe(line);
  });
});

describe("resultLifetimeMs", () => {
  it("is two intervals plus a cycle's worst case under its deadlines", () => {
    expect(resultLifetimeMs(resolveTargetConfig({ dsn: "file:a.db" }))).toBe(30_000 + 4 * 7_000 + 3 * 1_000 + 4 * 2_000 + 2 * 2_000);
  });

  it("adds the checks' timeouts: they run one after another in the cycle (a check past its timeout keeps the connection)", () => {
    const checks = [
      { name: "a", query: "SELECT 1", timeout: "30s" },
      { name: "b", query: "SELECT 1" },
    ];
    const base = 30_000 + 4 * 7_000 + 3 * 1_000 + 4 * 2_000 + 2 * 2_000;
    expect(resultLifetimeMs(resolveTargetConfig({ dsn: "file:a.db", checks } as never))).toBe(base + 30_000 + 2_000);
  });
});
