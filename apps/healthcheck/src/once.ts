/**
 * `--once`: one cycle for every target of the plan, printed as text or JSON. A module of its own,
 * imported by main.ts only for the modes that probe: it brings core's probe runner.
 */
import { setMaxListeners } from "node:events";
import { createDriver, type Driver } from "@alfred/db-health-core";
import type { CliPlan } from "./cli-plan.js";
import type { Io } from "./main.js";
import { applyClusters } from "./cluster.js";
import { EXIT, exitCodeFor, formatJson, formatText } from "./report.js";

export { createDriver };

/**
 * Probes every driver once, concurrently, prints the results and returns the exit code: 0 when
 * every target is up (or degraded with `--degraded-ok`), 1 otherwise or when a stop signal
 * interrupted the probes.
 *
 * @example
 * ```ts
 * const code = await runOnce(plan, plan.targets.map((t) => createDriver(t)), io);
 * ```
 */
export async function runOnce(plan: CliPlan, drivers: readonly Driver[], io: Io): Promise<number> {
  // Every target's cycle listens to the stop signal; more than ten is no leak.
  setMaxListeners(Math.max(10, 3 * drivers.length + 10), io.shutdown);
  const probed = await Promise.all(drivers.map((d) => d.probe(io.shutdown)));
  if (io.shutdown.aborted) {
    io.stderr.write("healthcheck: interrupted before every target was probed\n");
    return EXIT.unhealthy;
  }
  // Every target probed first, then the cluster rule over all of them (a split brain degrades every member).
  const { results, views } = applyClusters(drivers.map((d) => d.config), probed);
  io.stdout.write(plan.format === "json" ? formatJson(results, views) : formatText(results, views));
  return exitCodeFor(results, plan.degradedOk);
}
