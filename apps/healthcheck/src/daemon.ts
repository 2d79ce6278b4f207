import { setMaxListeners } from "node:events";
import type { Server } from "node:http";
import { Gauge, type Registry } from "prom-client";
import { performance } from "node:perf_hooks";
import { createDriver, createMetrics, errorMessage, formatDuration, type Driver, type ProbeResult } from "@alfred/db-health-core";
import { clusterBoard } from "./cluster-daemon.js";
import { createCycles } from "./cycles.js";
import { createDiscoveredTargets, type DiscoveredTargets } from "./discovery/discovered-targets.js";
import { registerDiscoveryMetrics } from "./discovery/discovery-metrics.js";
import type { DiscoveryModule } from "./discovery/module.js";
import { startHttpServer, type WebConfig } from "./http/http-server.js";
import { LostConnectionReprobe } from "./lost-connection-reprobe.js";
import type { Logger } from "./logger.js";
import { childReadiness, type TcpEndpoint } from "./child-readiness.js";
import type { WrappedChild } from "./wrapper.js";
import { checkFields } from "./report.js";

export { MAX_CONCURRENT_CYCLES } from "./cycles.js";

/** Options of {@link runDaemon}. */
export interface DaemonOptions {
  drivers: readonly Driver[];
  /** Modules for discovered targets (`/probe?module=`), each with its plan (settings and driver resolved). @default none */
  modules?: readonly DiscoveryModule[];
  listen: { host: string | undefined; port: number };
  legacyMetrics: boolean;
  /** Export prom-client's process_* and nodejs_* collectors. @default false */
  runtimeMetrics?: boolean;
  /** Bounds of db_probe_duration_seconds (s). @default core's (docs/metrics.md, "Buckets") */
  durationBuckets?: number[];
  version: string;
  /** The git commit the exporter was built from (`db_health_check_build_info`). @default "unknown" */
  revision?: string;
  log: Logger;
  /** `/probe` answers from a result younger than this (ms). */
  probeCacheMs: number;
  /** Path of the metrics endpoint. @default "/metrics" */
  telemetryPath?: string;
  /** Taken off a scrape's X-Prometheus-Scrape-Timeout-Seconds (ms). @default 500 */
  timeoutOffsetMs?: number;
  webConfig?: WebConfig;
  /**
   * Wrapper mode: starts the child, called once the HTTP server listens (a port that cannot be
   * bound stops everything before the child exists). The daemon ends when the child exits.
   */
  startChild?: () => WrappedChild | undefined;
  /** Wrapper mode: the targets' TCP addresses, which must accept connections before the child counts as ready. @default none */
  childTcp?: readonly TcpEndpoint[];
  /** Aborting it shuts the daemon down: the cycles in flight end, connections close. */
  signal: AbortSignal;
}

/**
 * How long readiness says `stopping` after a stop signal forwarded to a wrapped child that goes on
 * running; then the targets' results say it.
 */
const STOP_GRACE_MS = 30_000;

/** ±10 % around the interval, so many probers started together do not probe in lockstep. */
const jitter = (ms: number): number => ms * (0.9 + Math.random() * 0.2);

/**
 * The schedule's cycles start on ticks of this length (ms, on the `performance.now()` clock):
 * the targets due within one tick wake the process once, together, instead of one wake-up each.
 * At most a twentieth of the interval (well inside the ±10 % jitter) and at most 250 ms; each
 * length divides the longer ones, so targets with different intervals still share wake-ups.
 *
 * @example
 * ```ts
 * wakeTick(15_000); // 250
 * wakeTick(1_000);  // 50
 * ```
 */
export const wakeTick = (intervalMs: number): number => [250, 50, 10, 5].find((tick) => tick <= intervalMs / 20) ?? intervalMs / 20;

/**
 * Node fires a timer up to ~1.5 ms before its time by `performance.now()` (it counts from the
 * event loop's cached clock): a wake-up aimed exactly at a tick would often find its cycle not
 * yet due and sleep once more.
 */
const TIMER_SLACK_MS = 2;

/**
 * When the loop wakes for a cycle due at `scheduled` (`performance.now()` clock): the next tick
 * at or after it, plus {@link TIMER_SLACK_MS}.
 *
 * @example
 * ```ts
 * wakeAt(15_130, 15_000); // 15_252
 * ```
 */
export const wakeAt = (scheduled: number, intervalMs: number): number => {
  const tick = wakeTick(intervalMs);
  return Math.ceil(scheduled / tick) * tick + TIMER_SLACK_MS;
};

/**
 * Probes every target on its interval (one cycle in flight per target), at once when a held
 * connection is lost, serves the results over HTTP, and in wrapper mode reports the child;
 * resolves after everything is closed, when `signal` aborts or the child exits.
 *
 * @example
 * ```ts
 * const code = await runDaemon({ drivers, listen: { host: undefined, port: 9091 }, legacyMetrics: true, version: "1.0.0", log, probeCacheMs: 5000, signal: shutdown });
 * ```
 */
export async function runDaemon(options: DaemonOptions): Promise<number | undefined> {
  const { drivers, log } = options;
  let child: WrappedChild | undefined;
  // Probing stops on shutdown, or in wrapper mode when the child has exited. A stop signal
  // forwarded to the child only makes every target let go of its connection (the database must
  // not wait for ours): probing goes on, and says what the database answers while it stops, or
  // that it still runs if the signal did not stop it.
  const childExited = new AbortController();
  const signal = AbortSignal.any([options.signal, childExited.signal]);
  let stopSignalAt: number | undefined;
  // Readiness says `stopping` from the stop signal until the child exits, or for at most
  // STOP_GRACE_MS of a child that goes on running (a signal it ignores, as mariadbd SIGINT):
  // then the targets' own results say whether it is ready.
  const stopping = {
    get aborted(): boolean {
      return signal.aborted || (stopSignalAt !== undefined && performance.now() - stopSignalAt < STOP_GRACE_MS);
    },
  };
  // Every target's loop listens to it while sleeping or in a phase, and /probe adds some: with
  // more than a few targets Node would print a (false) "possible memory leak" warning.
  // Discovered targets add one while their cycle runs (at most MAX_CONCURRENT_CYCLES at once).
  setMaxListeners(Math.max(10, 3 * drivers.length + 10 + (options.modules?.length ? 100 : 0)), signal);
  const metrics = createMetrics({
    legacyNames: options.legacyMetrics,
    runtimeMetrics: options.runtimeMetrics === true,
    ...(options.durationBuckets ? { buckets: options.durationBuckets } : {}),
    buildInfo: { version: options.version, revision: options.revision ?? "unknown", nodeversion: process.version },
  });
  // Every target has its series from the first scrape: db_up 0 and db_status "unknown" until its
  // first cycle ends (then /readyz and /health stop saying "no probe cycle has finished yet").
  for (const d of drivers) metrics.declare({ target: d.config.name, driver: d.definition.name, ...(d.config.role === "auto" ? {} : { role: d.config.role }) });
  const results = new Map<string, ProbeResult>();
  // When each target's connection was last lost: /probe serves no result from before it.
  const lostAt = new Map<string, number>();
  let statusChanges = 0;
  const byName = new Map(drivers.map((d) => [d.config.name, d]));
  // Every finished cycle, whoever started it (the schedule, a lost connection or /probe), lands
  // here: metrics, the latest result, and one log line per status change (debug lines otherwise).
  // A cluster member's result is shown with its cluster's view applied; a view that changes the
  // status of other members shows theirs again (`cycle` false: nothing new was measured).
  const publish = (result: ProbeResult, cycle: boolean): void => {
    const previous = results.get(result.target)?.status;
    results.set(result.target, result);
    if (cycle) metrics.observe(result);
    else metrics.setStatus(result.target, result.status);
    if (result.status !== previous) statusChanges++;
    if (!log.enabled("debug") && result.status === previous) return;
    const fields = { target: result.target, engine: result.driver, role: result.role, status: result.status, ms: Math.round(result.durationMs * 100) / 100, ...checkFields(result) };
    if (result.status !== previous) log.log(result.status === "up" ? "info" : "warn", "status", { ...fields, from: previous ?? "starting", reason: result.reason });
    else if (cycle) log.log("debug", "probe", fields);
  };
  // An older primary claim contradicted by a newer one (a switchover) is re-probed at once.
  const reprobe = (target: string): void =>
    void cycles.run(byName.get(target)!).catch((err: unknown) => log.log("error", "probe cycle failed", { target, error: errorMessage(err) }));
  const clusters = clusterBoard(drivers, metrics.registry, publish, log, reprobe);
  const record = (result: ProbeResult): void => (clusters ? clusters.record(result) : publish(result, true));
  // One cycle per target at a time, shared by the schedule and /probe: a /probe arriving during
  // a scheduled cycle joins it, and the schedule counts its interval from the latest cycle either
  // of them started. So a scrape storm never adds cycles beyond one per /probe cache window.
  const cycles = createCycles({ signal, record });
  // Discovered targets share those cycles (and their slots); each module records into its own
  // registry, served by /probe?module= only.
  let discovered: DiscoveredTargets | undefined;
  if (options.modules && options.modules.length > 0) {
    const refused = registerDiscoveryMetrics(metrics.registry, () => discovered);
    discovered = createDiscoveredTargets({
      modules: options.modules,
      createDriver: (target) => createDriver(target),
      run: (driver, budget, recordResult) => cycles.run(driver, budget, recordResult),
      legacyMetrics: options.legacyMetrics,
      ...(options.durationBuckets ? { durationBuckets: options.durationBuckets } : {}),
      onError: (err) => log.log("warn", "closing a discovered target failed", { error: errorMessage(err) }),
      onRefused: (module, refusal) => {
        refused(module, refusal);
        log.log("debug", "discovered target refused", { module, reason: refusal.message });
      },
    });
  }
  const tcp = childReadiness(() => child, options.childTcp ?? [], signal);
  const server: Server = await startHttpServer(
    {
      metrics,
      results: () => results,
      lostAt: (name) => lostAt.get(name),
      statusChanges: () => statusChanges,
      targets: drivers.map((d) => d.config.name),
      ...(discovered ? { discovered } : {}),
      version: options.version,
      ...(options.revision ? { revision: options.revision } : {}),
      probe: (name, budget) => cycles.run(byName.get(name)!, budget),
      // Shutdown, or in wrapper mode the child told to stop (for a while) or gone.
      stopping,
      ...(options.startChild ? { ready: tcp.ready } : {}),
    },
    options.listen,
    {
      probeCacheMs: options.probeCacheMs,
      ...(options.telemetryPath ? { telemetryPath: options.telemetryPath } : {}),
      ...(options.timeoutOffsetMs === undefined ? {} : { timeoutOffsetMs: options.timeoutOffsetMs }),
      ...(options.webConfig ? { webConfig: options.webConfig } : {}),
      onError: (err) => log.log("error", "http server error", { error: errorMessage(err) }),
      onUnfinished: (target, reason) => log.log("debug", "scrape answered before the cycle ended", { target, reason }),
    },
  );
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.listen.port;
  const shown = !options.listen.host || options.listen.host === "0.0.0.0" || options.listen.host === "::" ? "127.0.0.1" : options.listen.host;
  const scheme = options.webConfig?.tls ? "https" : "http";
  const base = `${scheme}://${shown.includes(":") ? `[${shown}]` : shown}:${port}`;
  const metricsUrl = `${base}${options.telemetryPath ?? "/metrics"}`;
  log.log("info", `serving ${metricsUrl}`, { metrics: metricsUrl, health: `${base}/health`, readyz: `${base}/readyz`, targets: [...byName.keys()], ...(discovered ? { modules: discovered.modules } : {}) });
  if (options.startChild) {
    child = options.startChild();
    // A stop signal came before the child existed: nothing to wrap, shut down at once.
    if (!child) childExited.abort(new Error("stopped before the child started"));
  }
  if (child) {
    const stopped = child.stopping;
    stopped.addEventListener(
      "abort",
      () => {
        // It also aborts when the child exits: nothing is left to let go of then.
        if (!child!.state().running) return;
        stopSignalAt = performance.now();
        log.log("info", "letting go of the connections while the child stops: each cycle closes its own", { reason: errorMessage(stopped.reason) });
        for (const d of drivers) void d.letGo().catch(() => undefined);
      },
      { once: true },
    );
    registerChildMetrics(metrics.registry, child);
    void child.exited.then(() => childExited.abort(new Error("the child exited")));
    tcp.start();
  }

  // A lost connection wakes its target's loop (backing off when losses repeat).
  const reprobes = new Map(drivers.map((d) => [d.config.name, new LostConnectionReprobe(d.config.interval)]));
  const unsubscribe = drivers.map((d) =>
    d.onConnectionLost((e) => {
      // Shutting down: the loss is expected.
      if (signal.aborted) return;
      lostAt.set(e.target, Date.now());
      // The database was told to stop: so is the loss, and no cycle holds a connection now.
      if (child?.stopping.aborted) return;
      const delay = reprobes.get(e.target)!.report();
      log.log("warn", "connection lost", { target: e.target, engine: e.driver, reason: e.reason, probe: delay === 0 ? "now" : `in ${formatDuration(delay)} (connections lost again within a minute back off)` });
    }),
  );

  // One misbehaving target must never stop the others or the process: each loop catches
  // whatever escapes a cycle, logs it and carries on at its interval.
  const loop = async (driver: Driver): Promise<void> => {
    const name = driver.config.name;
    const reprobe = reprobes.get(name)!;
    while (!signal.aborted) {
      try {
        await cycles.run(driver);
        if (signal.aborted) break;
      } catch (err) {
        log.log("error", "probe cycle failed", { target: name, error: errorMessage(err) });
      }
      // Sleep until one interval after the latest cycle began (a /probe cycle meanwhile moves
      // that), or until a lost connection calls for a cycle sooner.
      const wait = jitter(driver.config.interval);
      for (;;) {
        const lastStart = cycles.lastStart(driver);
        const scheduled = lastStart + wait;
        const early = reprobe.dueAt(lastStart);
        const now = performance.now();
        if (Math.min(scheduled, early) <= now || signal.aborted) break;
        // A lost connection's early cycle keeps its time; the schedule's moves to the next tick.
        await reprobe.sleep((early < scheduled ? early : wakeAt(scheduled, driver.config.interval)) - now, signal);
      }
    }
  };
  try {
    // With only discovered targets there is no loop: serve until shutdown.
    await Promise.all([...drivers.map((d) => loop(d)), new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })))]);
    for (const stop of unsubscribe) stop();
    await Promise.allSettled(drivers.map((d) => d.close()));
    if (child) await child.exited;
  } finally {
    for (const stop of unsubscribe) stop();
    clusters?.close();
    tcp.stop();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    });
    await Promise.allSettled([...drivers.map((d) => d.close()), discovered?.close()]);
    log.log("info", "stopped", {});
  }
  return child ? await child.exited : undefined;
}

// daemon.ts is imported only in daemon mode, so `--once` never loads prom-client.
function registerChildMetrics(registry: Registry, child: WrappedChild): void {
  // Point-in-time values read at scrape time, as prom-client's collect() allows.
  const labelNames = ["command"] as const;
  new Gauge({
    name: "db_health_check_child_running",
    help: "1 while the wrapped command runs, 0 after it exited.",
    labelNames,
    registers: [registry],
    collect() {
      const s = child.state();
      this.set({ command: s.command }, s.running ? 1 : 0);
    },
  });
  new Gauge({
    name: "db_health_check_child_start_time_seconds",
    help: "Unix time the wrapped command was started.",
    labelNames,
    registers: [registry],
    collect() {
      const s = child.state();
      this.set({ command: s.command }, s.startedAt);
    },
  });
}
