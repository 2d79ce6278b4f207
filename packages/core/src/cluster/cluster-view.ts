/**
 * Cluster views: the targets that share a `cluster` seen together. A pure function of the
 * members' latest results, so that a one-shot run and a daemon whose members are probed on their
 * own intervals reach the same view from the same results.
 */
import type { ProbeResult } from "../contract/probe-result.js";

/** One member of a cluster, with its latest result as its own cycle found it. */
export interface ClusterMember {
  /** The member's target name. */
  target: string;
  /** The cluster it belongs to (`TargetConfig.cluster`). */
  cluster: string;
  /** Its latest finished cycle's result, before any cluster rule; absent before its first cycle. */
  result?: ProbeResult | undefined;
  /**
   * How long after its cycle ended (`startedAt + durationMs`) a result still counts as a
   * primary: an older one is a member whose probing fell behind, and what it said is no longer
   * known. @default Infinity (every result counts, as in a one-shot run)
   */
  maxAgeMs?: number;
}

/**
 * What a cluster looks like: `ok` with one primary, `split-brain` with more, `no-primary` while
 * members are up but none is a primary (a failover in progress, or replicas only), `down` when
 * no member is up (or none has a result yet).
 */
export type ClusterState = "ok" | "split-brain" | "no-primary" | "down";

/** One cluster as its members' results show it. */
export interface ClusterView {
  cluster: string;
  /** Members configured. */
  members: number;
  /** Members whose latest result is not `down` (as `db_up` counts them). */
  membersUp: number;
  /** Target names of the members counted as primaries, sorted. */
  primaries: string[];
  state: ClusterState;
  /** The problem every member that is not down gets: set only for `split-brain`. */
  problem?: string;
  /**
   * When (ms since the epoch) the first counted primary's result gets too old to count: the view
   * must be built again then, even if no result arrives. Absent when no primary's age is limited.
   */
  expiresAt?: number;
}

/** Primaries named in a problem; more are counted, not named, so the text stays one short line. */
const NAMED_PRIMARIES = 3;

/**
 * Builds each cluster's view from its members' latest results, clusters in order of first
 * appearance. A member counts as a primary when its latest result is not `down`, is recent
 * (see {@link ClusterMember.maxAgeMs}) and its role phase *detected* a primary
 * (`ProbeResult.detectedRole`): the configured role is an expectation, not a fact, so a target
 * configured `role: primary` whose node reports a replica is not counted, and one configured
 * `role: replica` whose node reports a primary is. A member whose role check failed this cycle
 * is not counted (its role is not known). More than one primary is `split-brain`, with the
 * problem `2 primaries in cluster main (pg-a, pg-b)`.
 *
 * @param now the clock, ms since the epoch. @default Date.now()
 * @example
 * ```ts
 * const [view] = clusterViews([
 *   { target: "pg-a", cluster: "main", result: a }, // a.detectedRole === "primary"
 *   { target: "pg-b", cluster: "main", result: b }, // b.detectedRole === "primary"
 * ]);
 * view?.state;   // "split-brain"
 * view?.problem; // "2 primaries in cluster main (pg-a, pg-b)"
 * ```
 */
export function clusterViews(members: readonly ClusterMember[], now: number = Date.now()): ClusterView[] {
  const byCluster = new Map<string, ClusterMember[]>();
  for (const m of members) {
    const list = byCluster.get(m.cluster);
    if (list) list.push(m);
    else byCluster.set(m.cluster, [m]);
  }
  return [...byCluster].map(([cluster, list]) => viewOf(cluster, list, now));
}

function viewOf(cluster: string, members: readonly ClusterMember[], now: number): ClusterView {
  const primaries: string[] = [];
  let membersUp = 0;
  let expiresAt: number | undefined;
  for (const { target, result, maxAgeMs = Infinity } of members) {
    if (!result || result.status === "down") continue;
    membersUp++;
    const countsUntil = result.startedAt + result.durationMs + maxAgeMs;
    if (result.detectedRole !== "primary" || now >= countsUntil) continue;
    primaries.push(target);
    if (Number.isFinite(countsUntil)) expiresAt = Math.min(expiresAt ?? countsUntil, countsUntil);
  }
  primaries.sort();
  const state: ClusterState = primaries.length > 1 ? "split-brain" : primaries.length === 1 ? "ok" : membersUp > 0 ? "no-primary" : "down";
  return {
    cluster,
    members: members.length,
    membersUp,
    primaries,
    state,
    ...(state === "split-brain" ? { problem: splitBrainProblem(cluster, primaries) } : {}),
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
}

function splitBrainProblem(cluster: string, primaries: readonly string[]): string {
  const named = primaries.slice(0, NAMED_PRIMARIES).join(", ");
  const more = primaries.length - NAMED_PRIMARIES;
  return `${primaries.length} primaries in cluster ${cluster} (${more > 0 ? `${named} and ${more} more` : named})`;
}

/**
 * A member's result as its cluster's view makes it: with a problem in the view (split brain),
 * a member that is not down is `degraded` and gets the problem after its own (its `reason` too
 * when it had none); otherwise, and for a down member, the result itself. Never changes its
 * argument.
 *
 * @example
 * ```ts
 * const shown = applyClusterView(result, view); // { status: "degraded", reason: "2 primaries in cluster main (pg-a, pg-b)", … }
 * ```
 */
export function applyClusterView(result: ProbeResult, view: ClusterView | undefined): ProbeResult {
  const problem = view?.problem;
  if (problem === undefined || result.status === "down" || result.problems.includes(problem)) return result;
  return { ...result, status: "degraded", problems: [...result.problems, problem], reason: result.reason ?? problem };
}
