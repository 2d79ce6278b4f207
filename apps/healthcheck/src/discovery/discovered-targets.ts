/**
 * Discovered targets at run time: `/probe?module=NAME&target=HOST:PORT[/DB]` checked against the
 * module's allow list (before anything connects or resolves), then kept in a bounded LRU of
 * drivers that share the daemon's cycles (single flight, the cycle slots, the scrape budget)
 * and record into one metrics registry per module (never `/metrics`).
 */
import { createMetrics, errorMessage, redact, type DbHealthMetrics, type Driver, type ProbeResult, type ResolvedTarget } from "@alfred/db-health-core";
import { Registry } from "prom-client";
import type { ScrapeBudget } from "../http/scrape-budget.js";
import { compileAllow, type AllowRefusal } from "./allow-list.js";
import { DISCOVERY_LIMITS } from "./discovery-limits.js";
import { moduleTarget, type DiscoveryModule } from "./module.js";
import type { TargetAddress } from "./target-address.js";

/** Options of {@link createDiscoveredTargets}. */
export interface DiscoveredTargetsOptions {
  /** The modules, each with its plan ({@link DiscoveryModule.target}). */
  modules: readonly DiscoveryModule[];
  /** Creates a target's driver from its plan (core's createDriver); never connects. */
  createDriver(target: ResolvedTarget): Driver;
  /** Runs or joins the driver's cycle: the daemon's shared cycles. */
  run(driver: Driver, budget: ScrapeBudget | undefined, record: (result: ProbeResult) => void): Promise<ProbeResult>;
  /** Keep the seed's `_ms` metric names in the modules' output, as `/metrics` does. */
  legacyMetrics: boolean;
  /** Bounds of db_probe_duration_seconds, as `/metrics` has them. @default core's */
  durationBuckets?: number[];
  /** @default DISCOVERY_LIMITS.maxTargets */
  maxTargets?: number;
  /** @default DISCOVERY_LIMITS.idleMs */
  idleMs?: number;
  /** Errors of a closing driver (logged, never fatal). */
  onError?(err: Error): void;
  /** Told of targets refused by an allow list, with the module and the reason. */
  onRefused?(module: string, refusal: AllowRefusal): void;
  /** Clock in ms (tests). @default performance.now */
  now?(): number;
}

/** A discovered target held for one request; {@link DiscoveredTarget.release} when answered. */
export interface DiscoveredTarget {
  /** Key in the probe cache: `MODULE TARGET` (a space, which no configured target name has). */
  key: string;
  /** `HOST:PORT[/DB]`: its `target` label. */
  label: string;
  module: string;
  /** Runs or joins its cycle; records into the module's metrics. */
  probe(budget?: ScrapeBudget): Promise<ProbeResult>;
  /** Its series, as `/probe` serves them (with `module="…"`). */
  render(): string;
  /** Done with it: it may be evicted or closed when idle from now on. */
  release(): void;
}

/** A request for a discovered target that is refused, with its status and one line. */
export interface DiscoveryRefusal {
  status: number;
  message: string;
  /** Seconds, for `Retry-After`. */
  retryAfter?: number;
}

/** What {@link createDiscoveredTargets} returns. */
export interface DiscoveredTargets {
  /** Module names, in the file's order. */
  readonly modules: readonly string[];
  /**
   * Checks a parsed `?module=&target=` against the module's allow list and holds the target
   * (created if new). Never connects and never resolves a name: a target outside the allow list
   * is `403` with nothing done.
   */
  open(module: string, target: TargetAddress): DiscoveredTarget | DiscoveryRefusal;
  /** Targets held now, per module. */
  counts(): ReadonlyMap<string, number>;
  /** Calls `listener` with the key of every target dropped (idle, evicted): the probe cache forgets it. */
  onDrop(listener: (key: string) => void): void;
  /** Closes every target and stops the idle sweep. */
  close(): Promise<void>;
}

interface Entry {
  key: string;
  label: string;
  module: Module;
  driver: Driver;
  /** Requests holding it. */
  holds: number;
  /** Its cycles running (one, or none). */
  cycles: number;
  lastUsed: number;
}

interface Module {
  spec: DiscoveryModule;
  check: ReturnType<typeof compileAllow>;
  metrics: DbHealthMetrics;
}

/**
 * @example
 * ```ts
 * const discovered = createDiscoveredTargets({
 *   modules: plan.modules,
 *   createDriver: (target) => createDriver(target),
 *   run: (driver, budget, record) => cycles.run(driver, budget, record),
 *   legacyMetrics: true,
 * });
 * discovered.onDrop((key) => cache.forget(key));
 * const held = discovered.open("pg", parseTargetAddress("10.0.0.5:5432/orders") as TargetAddress);
 * if ("status" in held) return send(res, held.status, held.message);
 * try { await held.probe(budget); send(res, 200, held.render()); } finally { held.release(); }
 * ```
 */
export function createDiscoveredTargets(options: DiscoveredTargetsOptions): DiscoveredTargets {
  const now = options.now ?? (() => performance.now());
  const maxTargets = options.maxTargets ?? DISCOVERY_LIMITS.maxTargets;
  const idleMs = options.idleMs ?? DISCOVERY_LIMITS.idleMs;
  const modules = new Map<string, Module>();
  for (const spec of options.modules) {
    if (!spec.target) throw new Error(`module "${spec.name}" was not resolved with its driver`);
    const registry = new Registry();
    // Every series of the module carries module="NAME": two modules may reach one address.
    registry.setDefaultLabels({ module: spec.name });
    modules.set(spec.name, { spec, check: compileAllow(spec.allow), metrics: createMetrics({ registry, legacyNames: options.legacyMetrics, ...(options.durationBuckets ? { buckets: options.durationBuckets } : {}) }) });
  }
  // Least recently used first: a Map keeps insertion order, and each use re-inserts.
  const entries = new Map<string, Entry>();
  const dropListeners: Array<(key: string) => void> = [];

  const drop = (e: Entry): void => {
    if (entries.get(e.key) !== e) return;
    entries.delete(e.key);
    e.module.metrics.forget(e.label);
    for (const listener of dropListeners) listener(e.key);
    e.driver.close().catch((err: unknown) => options.onError?.(err instanceof Error ? err : new Error(String(err))));
  };
  const idle = (e: Entry): boolean => e.holds === 0 && e.cycles === 0;
  const sweep = setInterval(() => {
    const t = now();
    for (const e of [...entries.values()]) if (idle(e) && t - e.lastUsed >= idleMs) drop(e);
  }, Math.min(idleMs / 2, 30_000));
  sweep.unref();

  const create = (module: Module, address: TargetAddress, key: string): Entry | DiscoveryRefusal => {
    if (entries.size >= maxTargets) {
      const victim = [...entries.values()].find(idle);
      if (!victim) return { status: 503, message: `all ${maxTargets} discovered targets are in use: retry shortly\n`, retryAfter: 5 };
      drop(victim);
    }
    let driver: Driver;
    try {
      // The module's plan on this target's DSN: its settings and driver were resolved at start-up.
      driver = options.createDriver(moduleTarget(module.spec, address));
    } catch (err) {
      // config check tried the module on an allowed address; a target it still refuses says why.
      return { status: 400, message: `module "${module.spec.name}" cannot probe ${address.label}: ${redact(errorMessage(err))}\n` };
    }
    module.metrics.declare({ target: address.label, driver: driver.definition.name, ...(driver.config.role === "auto" ? {} : { role: driver.config.role }) });
    const entry: Entry = { key, label: address.label, module, driver, holds: 0, cycles: 0, lastUsed: now() };
    entries.set(key, entry);
    return entry;
  };

  return {
    modules: [...modules.keys()],
    open(name, target) {
      const module = modules.get(name);
      if (!module) return { status: 400, message: `unknown module ${/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name) ? `"${name}"` : "(not shown)"}; modules: ${[...modules.keys()].join(", ")}\n` };
      const address = target;
      const refused = module.check(address);
      if (refused) {
        options.onRefused?.(name, refused);
        return { status: 403, message: `target ${address.label} is not allowed by module "${name}": ${refused.message}; it was not connected to\n` };
      }
      const key = `${name} ${address.label}`;
      let entry = entries.get(key);
      if (entry) entries.delete(key);
      else {
        const made = create(module, address, key);
        if ("status" in made) return made;
        entry = made;
      }
      entries.set(key, entry);
      entry.holds++;
      entry.lastUsed = now();
      const held = entry;
      let released = false;
      return {
        key,
        label: held.label,
        module: name,
        probe: (budget) => {
          held.cycles++;
          return options
            .run(held.driver, budget, (result) => {
              // A target dropped while its cycle ran must not come back into the metrics.
              if (entries.get(key) === held) held.module.metrics.observe({ ...result, target: held.label });
            })
            .finally(() => held.cycles--);
        },
        render: () => held.module.metrics.renderTarget(held.label),
        release: () => {
          if (released) return;
          released = true;
          held.holds--;
          held.lastUsed = now();
        },
      };
    },
    onDrop: (listener) => void dropListeners.push(listener),
    counts() {
      const out = new Map<string, number>([...modules.keys()].map((m) => [m, 0]));
      for (const e of entries.values()) out.set(e.module.spec.name, (out.get(e.module.spec.name) ?? 0) + 1);
      return out;
    },
    async close() {
      clearInterval(sweep);
      const all = [...entries.values()];
      entries.clear();
      await Promise.allSettled(all.map((e) => e.driver.close()));
    },
  };
}
