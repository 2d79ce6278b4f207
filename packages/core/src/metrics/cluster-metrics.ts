/**
 * The cluster families (`db_cluster_*`), kept apart from the per-target ones: they describe
 * several targets at once, and their values are read from the caller's views at scrape time.
 */
import type { Registry } from "prom-client";
import type { ClusterView } from "../cluster/cluster-view.js";
import { loadPromClient } from "./families.js";

/**
 * Registers `db_cluster_members`, `db_cluster_members_up` and `db_cluster_primaries` (label
 * `cluster`) on `registry`. Their values are point-in-time: `views()` is called on every scrape,
 * and a cluster it no longer returns has no series. Registering twice on one registry is an
 * error (prom-client refuses a second metric of one name).
 *
 * @example
 * ```ts
 * const metrics = createMetrics();
 * registerClusterMetrics(metrics.registry, () => clusterViews(members));
 * await metrics.render(); // … db_cluster_primaries{cluster="main"} 2 …
 * ```
 */
export function registerClusterMetrics(registry: Registry, views: () => readonly ClusterView[]): void {
  const { Gauge } = loadPromClient();
  const family = (name: string, help: string, value: (v: ClusterView) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ["cluster"],
      registers: [registry],
      collect() {
        this.reset();
        for (const v of views()) this.set({ cluster: v.cluster }, value(v));
      },
    });
  };
  family("db_cluster_members", "Targets configured with this cluster.", (v) => v.members);
  family("db_cluster_members_up", "Members of the cluster whose latest probe cycle was not down.", (v) => v.membersUp);
  family(
    "db_cluster_primaries",
    "Members of the cluster whose latest probe cycle detected a primary (not down, result recent); more than 1 is split brain.",
    (v) => v.primaries.length,
  );
}
