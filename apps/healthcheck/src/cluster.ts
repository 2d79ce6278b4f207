/**
 * The cluster rule in the CLI: targets sharing `cluster` are seen together (core's clusterViews),
 * and what every output shows for a member (metrics, /health, /readyz, `--once`, logs) is its
 * own cycle's result with its cluster's view applied. The rule runs where results are
 * published, never inside a driver: a member's cycle knows nothing of the others.
 */
import { applyClusterView, clusterViews, type ClusterMember, type ClusterState, type ClusterView, type ProbeResult, type TargetConfig } from "@alfred/db-health-core";

/**
 * How long after its cycle ended a member's result still counts as a primary in the daemon: two
 * intervals (the schedule's jitter included) plus the longest a cycle can take under its
 * deadlines (every connect and ping attempt with the pauses between, then role, two rounds of
 * write and read, connections, then every custom check to its timeout: a check past its timeout
 * is ended by the server and the next one runs). Older means the member's probing fell behind (a cycle stuck
 * past its deadlines, every slot busy): what it said then is no longer known, so a primary that
 * stopped answering stops counting even before a cycle reports it down.
 *
 * @example
 * ```ts
 * resultLifetimeMs(config); // 73000 with the defaults (15s interval, 5s connect, 2s read and write, 3 retries of 1s)
 * ```
 */
export function resultLifetimeMs(config: TargetConfig): number {
  const attempts = config.maxRetries + 1;
  const reach = attempts * (config.connectTimeout + config.readTimeout) + config.maxRetries * config.retryInterval;
  const checks = config.checks.reduce((sum, c) => sum + c.timeout, 0);
  return 2 * config.interval + reach + 4 * config.readTimeout + 2 * config.writeTimeout + checks;
}

/**
 * `--once`: every result with its cluster's view applied (in the given order), and the views.
 * Every member was probed in this run, so no result is too old.
 *
 * @example
 * ```ts
 * const { results, views } = applyClusters(drivers.map((d) => d.config), await Promise.all(drivers.map((d) => d.probe())));
 * ```
 */
export function applyClusters(configs: readonly TargetConfig[], results: readonly ProbeResult[]): { results: ProbeResult[]; views: ClusterView[] } {
  const members = configs.flatMap((c, i): ClusterMember[] => (c.cluster === undefined ? [] : [{ target: c.name, cluster: c.cluster, result: results[i] }]));
  const views = clusterViews(members);
  const byName = new Map(views.map((v) => [v.cluster, v]));
  return { results: results.map((r, i) => applyClusterView(r, byName.get(configs[i]?.cluster ?? ""))), views };
}

const STATE_TEXT: Readonly<Record<ClusterState, string>> = { ok: "ok", "split-brain": "split brain", "no-primary": "no primary", down: "no member up" };

/**
 * One line about a cluster, as `--once` prints it and the daemon logs it.
 *
 * @example
 * ```ts
 * clusterLine(view); // "cluster main: split brain: 2 primaries (pg-a, pg-c), 3 of 3 members up"
 * ```
 */
export function clusterLine(view: ClusterView): string {
  const n = view.primaries.length;
  const primaries = n === 0 ? "no primary" : `${n} ${n === 1 ? "primary" : "primaries"} (${view.primaries.slice(0, 3).join(", ")}${n > 3 ? ` and ${n - 3} more` : ""})`;
  return `cluster ${view.cluster}: ${STATE_TEXT[view.state]}: ${primaries}, ${view.membersUp} of ${view.members} members up`;
}

/** Options of {@link createClusterBoard}. */
export interface ClusterBoardOptions {
  /** Every target's configuration; those with a `cluster` are members. */
  configs: readonly TargetConfig[];
  /**
   * Shows a result: the member's own cycle's (`cycle` true: count it, observe it), or another
   * member's latest result again, changed by its cluster's new view (`cycle` false: only its
   * status and problems changed).
   */
  publish(result: ProbeResult, cycle: boolean): void;
  /**
   * A cluster's state changed (first called once every member has a result, or at once for a
   * split brain): once per change, never per cycle.
   */
  stateChanged(view: ClusterView, from: ClusterState | undefined): void;
  /**
   * Re-probe these members now (the daemon runs a cycle of each). Called when a member's result
   * newly claims a primary while other members' older results still do: in a switchover the
   * old primary is demoted before the new one is promoted, and its last result (up to an
   * interval old; a demotion without restart, as on MySQL/MariaDB, loses no connection) may
   * predate that. Until its next result arrives, such an older claim is not counted; that
   * result (still a primary: a split brain) asks for no re-probe in turn. Without `confirm`
   * every recent claim counts at once. @default none
   */
  confirm?(targets: readonly string[]): void;
  /** Clock, ms since the epoch (tests). @default Date.now */
  now?: () => number;
}

/** What {@link createClusterBoard} returns. */
export interface ClusterBoard {
  /** Takes a cycle's result (of any target) and publishes it and whatever it changes. */
  record(result: ProbeResult): void;
  /** The current views, clusters in configuration order (for `db_cluster_*`). */
  views(): readonly ClusterView[];
  /** Stops the timer that re-evaluates views when a primary's result gets too old. */
  close(): void;
}

/**
 * The daemon's clusters. Members are probed on their own intervals, so the rule is applied each
 * time a result is published: the arriving member's result with the new view, and every other
 * member of its cluster whose shown status or problems the new view changes (a second primary
 * degrades all of them at once; its going down clears all of them). A timer builds the views
 * again when a counted primary's result gets older than {@link resultLifetimeMs}, so a primary
 * that stopped reporting stops counting without waiting for another member's cycle.
 *
 * @example
 * ```ts
 * const board = createClusterBoard({ configs, publish: (r, cycle) => show(r, cycle), stateChanged: (v, from) => log(v, from) });
 * board.record(await driver.probe());
 * ```
 */
export function createClusterBoard(options: ClusterBoardOptions): ClusterBoard {
  const now = options.now ?? Date.now;
  const members = new Map<string, { cluster: string; maxAgeMs: number }>();
  const clusters = new Map<string, string[]>();
  for (const c of options.configs) {
    if (c.cluster === undefined) continue;
    members.set(c.name, { cluster: c.cluster, maxAgeMs: resultLifetimeMs(c) });
    clusters.set(c.cluster, [...(clusters.get(c.cluster) ?? []), c.name]);
  }
  const raw = new Map<string, ProbeResult>();
  const shown = new Map<string, ProbeResult>();
  const views = new Map<string, ClusterView>();
  const logged = new Map<string, ClusterState>();
  let timer: NodeJS.Timeout | undefined;

  // Members whose primary claim a newer one contradicted, re-probed and not counted as primaries
  // until their next result (see ClusterBoardOptions.confirm).
  const unconfirmed = new Set<string>();
  const build = (cluster: string, names: readonly string[]): ClusterView => {
    const list = names.map((target): ClusterMember => {
      const result = raw.get(target);
      const counted = result && unconfirmed.has(target) ? { ...result, detectedRole: undefined } : result;
      return { target, cluster, result: counted, maxAgeMs: members.get(target)!.maxAgeMs };
    });
    return clusterViews(list, now())[0]!;
  };

  const evaluate = (cluster: string, arriving?: ProbeResult, confirming = false): void => {
    const names = clusters.get(cluster)!;
    const before = views.get(cluster);
    let view = build(cluster, names);
    // A newly claimed primary beside older claims: those are re-probed before they count again.
    if (options.confirm && arriving && !confirming && view.state === "split-brain" && view.primaries.includes(arriving.target) && !before?.primaries.includes(arriving.target)) {
      const older = view.primaries.filter((t) => t !== arriving.target && raw.get(t)!.startedAt < arriving.startedAt);
      if (older.length > 0) {
        for (const t of older) unconfirmed.add(t);
        view = build(cluster, names);
        options.confirm(older);
      }
    }
    views.set(cluster, view!);
    // What the view does to a member depends only on its problem: with the same problem as
    // before, the other members' shown results stay as they are (no pass over a large cluster).
    const others = before === undefined || before.problem !== view!.problem;
    for (const target of names) {
      const own = raw.get(target);
      if (!own) continue;
      if (own !== arriving && !others) continue;
      const next = applyClusterView(own, view);
      if (own === arriving) {
        shown.set(target, next);
        options.publish(next, true);
        continue;
      }
      const was = shown.get(target);
      if (was && was.status === next.status && was.problems.join("\n") === next.problems.join("\n")) continue;
      shown.set(target, next);
      options.publish(next, false);
    }
    // A state is told once every member has a result and no primary claim awaits its re-probe.
    const known = names.every((t) => raw.has(t) && !unconfirmed.has(t));
    const from = logged.get(cluster);
    if ((known || view!.state === "split-brain") && from !== view!.state) {
      logged.set(cluster, view!.state);
      options.stateChanged(view!, from);
    }
  };

  const schedule = (): void => {
    clearTimeout(timer);
    timer = undefined;
    const next = Math.min(...[...views.values()].map((v) => v.expiresAt ?? Infinity));
    if (!Number.isFinite(next)) return;
    // setTimeout takes at most 2^31-1 ms; a later expiry is looked at again then.
    timer = setTimeout(() => {
      for (const cluster of clusters.keys()) evaluate(cluster);
      schedule();
    }, Math.min(Math.max(0, next - now()), 2 ** 31 - 1)).unref();
  };

  return {
    record(result) {
      const member = members.get(result.target);
      if (!member) return options.publish(result, true);
      raw.set(result.target, result);
      evaluate(member.cluster, result, unconfirmed.delete(result.target));
      schedule();
    },
    views: () => [...clusters.keys()].flatMap((c) => {
      const v = views.get(c);
      return v ? [v] : [{ cluster: c, members: clusters.get(c)!.length, membersUp: 0, primaries: [], state: "down" as const }];
    }),
    close() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
