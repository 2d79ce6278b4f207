/** The exporter's own series about discovered targets, on `/metrics`. */
import { Counter, Gauge, type Registry } from "prom-client";
import type { AllowRefusal } from "./allow-list.js";
import type { DiscoveredTargets } from "./discovered-targets.js";

/**
 * Registers `db_health_check_discovered_targets{module}` (targets held in the LRU now) and
 * `db_health_check_discovered_refused_total{module,reason}` (targets refused by an allow list:
 * reason is address, host, port or database; never the target, so the series stay bounded),
 * and returns the function that counts a refusal.
 *
 * @example
 * ```ts
 * const refused = registerDiscoveryMetrics(metrics.registry, () => discovered);
 * createDiscoveredTargets({ ...options, onRefused: refused });
 * ```
 */
export function registerDiscoveryMetrics(registry: Registry, discovered: () => DiscoveredTargets | undefined): (module: string, refusal: AllowRefusal) => void {
  new Gauge({
    name: "db_health_check_discovered_targets",
    help: "Discovered targets (/probe?module=&target=) held now, per module; at most 1000 in all.",
    labelNames: ["module"] as const,
    registers: [registry],
    collect() {
      for (const [module, n] of discovered()?.counts() ?? []) this.set({ module }, n);
    },
  });
  const refused = new Counter({
    name: "db_health_check_discovered_refused_total",
    help: "Discovered targets refused (403) because the module's allow list does not cover them; none was connected to.",
    labelNames: ["module", "reason"] as const,
    registers: [registry],
  });
  return (module, refusal) => refused.inc({ module, reason: refusal.reason });
}
