import type { Server } from "node:http";
import { createMetrics, errorMessage, sleep, type Driver, type ProbeResult } from "@alfred/db-health-core";
import { startHttpServer } from "./http-server.js";
import type { Logger } from "./logger.js";

/** Options of {@link runDaemon}. */
export interface DaemonOptions {
  drivers: readonly Driver[];
  listen: { host: string | undefined; port: number };
  legacyMetrics: boolean;
  version: string;
  log: Logger;
  /** Aborting it shuts the daemon down: the cycle in flight is abandoned, connections close. */
  signal: AbortSignal;
}

/**
 * Probes every target on its interval (one cycle in flight per target) and serves the results
 * over HTTP until `signal` aborts. Resolves after everything is closed.
 */
export async function runDaemon(options: DaemonOptions): Promise<void> {
  const { drivers, log, signal } = options;
  const metrics = createMetrics({ legacyNames: options.legacyMetrics, buildInfo: { version: options.version } });
  const results = new Map<string, ProbeResult>();
  const server: Server = await startHttpServer(
    { metrics, results: () => results, targets: drivers.map((d) => d.config.name) },
    options.listen,
    (err) => log.log("error", "http server error", { error: errorMessage(err) }),
  );
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.listen.port;
  const shown = !options.listen.host || options.listen.host === "0.0.0.0" || options.listen.host === "::" ? "127.0.0.1" : options.listen.host;
  const base = `http://${shown.includes(":") ? `[${shown}]` : shown}:${port}`;
  log.log("info", `serving ${base}/metrics`, { metrics: `${base}/metrics`, healthz: `${base}/healthz`, readyz: `${base}/readyz`, targets: drivers.map((d) => d.config.name) });

  // One misbehaving target must never stop the others or the process: each loop catches
  // whatever escapes a cycle, logs it and carries on at its interval.
  const loop = async (driver: Driver): Promise<void> => {
    let previous: string | undefined;
    while (!signal.aborted) {
      const started = performance.now();
      try {
        const result = await driver.probe(signal);
        if (signal.aborted) break;
        results.set(result.target, result);
        metrics.observe(result);
        const fields = { target: result.target, engine: result.driver, role: result.role, status: result.status, ms: Math.round(result.durationMs * 100) / 100 };
        if (result.status !== previous) {
          log.log(result.status === "up" ? "info" : "warn", "status", { ...fields, from: previous ?? "starting", reason: result.reason });
        } else {
          log.log("debug", "probe", fields);
        }
        previous = result.status;
      } catch (err) {
        log.log("error", "probe cycle failed", { target: driver.config.name, error: errorMessage(err) });
      }
      await sleep(Math.max(0, driver.config.interval - (performance.now() - started)), signal);
    }
  };
  try {
    await Promise.all(drivers.map((d) => loop(d)));
  } finally {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await Promise.allSettled(drivers.map((d) => d.close()));
    log.log("info", "stopped", {});
  }
}
