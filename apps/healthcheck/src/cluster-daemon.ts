/** The daemon's side of clusters: the board, the `db_cluster_*` metrics and the state log lines. */
import type { Registry } from "prom-client";
import { registerClusterMetrics, type Driver, type ProbeResult } from "@alfred/db-health-core";
import { clusterLine, createClusterBoard, type ClusterBoard } from "./cluster.js";
import type { Logger } from "./logger.js";

/**
 * The board of the drivers' clusters with its metrics registered, or `undefined` when no target
 * names a cluster (no `db_cluster_*` family then). A state change is logged once: `info` for
 * `ok`, `warn` otherwise (split brain, no primary, no member up). `reprobe` runs a member's cycle
 * now: an older primary claim is confirmed that way before it counts beside a newer one.
 *
 * @example
 * ```ts
 * const clusters = clusterBoard(drivers, metrics.registry, publish, log, (t) => void cycles.run(byName.get(t)!));
 * const record = (r: ProbeResult) => (clusters ? clusters.record(r) : publish(r, true));
 * ```
 */
export function clusterBoard(
  drivers: readonly Driver[],
  registry: Registry,
  publish: (result: ProbeResult, cycle: boolean) => void,
  log: Logger,
  reprobe: (target: string) => void,
): ClusterBoard | undefined {
  const configs = drivers.map((d) => d.config);
  if (!configs.some((c) => c.cluster !== undefined)) return undefined;
  const board = createClusterBoard({
    configs,
    publish,
    confirm(targets) {
      log.log("debug", "cluster primary re-probed", { targets: [...targets], reason: "a newer result of another member claims a primary" });
      for (const t of targets) reprobe(t);
    },
    stateChanged(view, from) {
      // Only a healthy cluster is news at info: no member up is as bad as no primary.
      const level = view.state === "ok" ? "info" : "warn";
      log.log(level, "cluster", {
        cluster: view.cluster,
        state: view.state,
        from: from ?? "starting",
        primaries: view.primaries,
        membersUp: view.membersUp,
        members: view.members,
        summary: clusterLine(view),
      });
    },
  });
  registerClusterMetrics(registry, () => board.views());
  return board;
}
