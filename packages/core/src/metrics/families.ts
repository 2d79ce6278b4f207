import { createRequire } from "node:module";
import type { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Status } from "../contract/types.js";
import { CORE_VERSION } from "../version.js";

// The db_status states: a probe's status, or `unknown` until the target's first result.
export const STATES: ReadonlyArray<Status | "unknown"> = ["up", "degraded", "down", "unknown"];
export const BASE = ["db_name", "db_role", "target"] as const;
const LINTED_RUNTIME_GAUGES = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];
export type BaseLabels = Record<(typeof BASE)[number], string>;

/** What {@link registerFamilies} needs from `MetricsOptions`, resolved. */
export interface FamilyOptions {
  legacy: boolean;
  buckets: number[];
  buildInfo?: Record<string, string>;
  runtimeMetrics: boolean;
}

/** The per-target metrics (filled from metrics.ts's own store when they are read). */
export interface Families {
  up: Gauge<string>;
  readMs: Gauge<string> | undefined;
  writeMs: Gauge<string> | undefined;
  connections: Gauge<string>;
  connectionCount: Gauge<string> | undefined;
  errors: Counter<string>;
  duration: Histogram<string>;
  status: Gauge<string>;
  lag: Gauge<string>;
  lastSuccess: Gauge<string>;
  /** Issue 19: the server's connection limit and the TLS certificate's expiry. */
  connectionsMax: Gauge<string>;
  certificateExpiry: Gauge<string>;
}

/**
 * Registers the metric families of ARCHITECTURE.md on `registry`: the per-target ones, the
 * build-info gauge and, when asked, prom-client's default process and runtime collectors.
 */
export function registerFamilies(registry: Registry, options: FamilyOptions): Families {
  const { Counter, Gauge, Histogram, collectDefaultMetrics } = loadPromClient();
  const registers = [registry];
  const { legacy, buckets } = options;
  const up = new Gauge({ name: "db_up", help: "1 if the database answered connect and ping in the last probe, 0 if not.", labelNames: BASE, registers });
  const readMs = legacy
    ? new Gauge({ name: "db_read_latency_ms", help: "Duration of the last read-back check in milliseconds (legacy name).", labelNames: BASE, registers })
    : undefined;
  const writeMs = legacy
    ? new Gauge({ name: "db_write_latency_ms", help: "Duration of the last write check in milliseconds (legacy name).", labelNames: BASE, registers })
    : undefined;
  const connections = new Gauge({ name: "db_connections", help: "Client connections open on the database, as the server reports them.", labelNames: BASE, registers });
  // promtool rejects a gauge ending in _count; the seed's name stays a legacy alias.
  const connectionCount = legacy
    ? new Gauge({ name: "db_connection_count", help: "Client connections open on the database (legacy name of db_connections).", labelNames: BASE, registers })
    : undefined;
  const errors = new Counter({ name: "db_connection_errors_total", help: "Failed connect or ping attempts.", labelNames: BASE, registers });
  const duration = new Histogram({
    name: "db_probe_duration_seconds",
    help: "Duration of each probe phase in seconds.",
    labelNames: [...BASE, "phase"],
    buckets,
    registers,
  });
  const status = new Gauge({
    name: "db_status",
    help: "Probe status as a state set: 1 for the current status, 0 for the others; unknown is 1 until the target's first probe cycle ended.",
    labelNames: [...BASE, "status"],
    registers,
  });
  const lag = new Gauge({ name: "db_replication_lag_seconds", help: "Replication lag of a replica in seconds.", labelNames: BASE, registers });
  const lastSuccess = new Gauge({
    name: "db_probe_last_success_timestamp_seconds",
    help: "Unix time of the last probe cycle that ended with status up.",
    labelNames: BASE,
    registers,
  });
  // Capacity and TLS (issue 19): beside db_connections, and the server certificate's notAfter.
  const connectionsMax = new Gauge({
    name: "db_connections_max",
    help: "The server's limit on client connections (max_connections; PostgreSQL: less the reserved slots), beside db_connections.",
    labelNames: BASE,
    registers,
  });
  const certificateExpiry = new Gauge({
    name: "db_tls_certificate_expiry_timestamp_seconds",
    help: "Unix time at which the TLS certificate the database server presented expires (notAfter); absent without TLS.",
    labelNames: BASE,
    registers,
  });
  if (options.runtimeMetrics && !registry.getSingleMetric("process_cpu_user_seconds_total")) {
    collectDefaultMetrics({ register: registry });
    // Gauges named like counters, which `promtool check metrics` rejects; each is the sum of the
    // per-type gauge registered beside it (`sum(nodejs_active_handles)`), so nothing is lost.
    for (const name of LINTED_RUNTIME_GAUGES) registry.removeSingleMetric(name);
  }
  const build = { version: CORE_VERSION, ...options.buildInfo };
  new Gauge({ name: "db_health_check_build_info", help: "Build information of the exporter; always 1.", labelNames: Object.keys(build), registers }).set(build, 1);

  return { up, readMs, writeMs, connections, connectionCount, errors, duration, status, lag, lastSuccess, connectionsMax, certificateExpiry };
}

// prom-client takes ~35 ms to load; `healthcheck --once` never needs it, so it is required
// (it is CommonJS) the first time metrics are created rather than when core is imported.
let promClient: typeof import("prom-client") | undefined;
export function loadPromClient(): typeof import("prom-client") {
  promClient ??= createRequire(import.meta.url)("prom-client") as typeof import("prom-client");
  return promClient;
}

// --- Custom checks (`checks:`) -------------------------------------------------------------------

/** The three gauges of the custom checks: one series per target and check. */
export interface CheckFamilies {
  value: Gauge<string>;
  up: Gauge<string>;
  duration: Gauge<string>;
}

/** The `check` label beside the target's: a check's name, from the bounded set its configuration declares. */
export const CHECK_LABELS = [...BASE, "check"] as const;

/**
 * Registers `db_check_value`, `db_check_up` and `db_check_duration_seconds` on `registry`. Their
 * series come and go with the checks a target's last cycle ran (see metrics.ts).
 */
export function registerCheckFamilies(registry: Registry): CheckFamilies {
  const { Gauge } = loadPromClient();
  const registers = [registry];
  return {
    value: new Gauge({
      name: "db_check_value",
      help: "Value of a custom check: the first column of its query's first row, as a number, in the last cycle that ran it (absent when it gave none).",
      labelNames: CHECK_LABELS,
      registers,
    }),
    up: new Gauge({
      name: "db_check_up",
      help: "1 if the custom check's query ran in the last cycle and its value was within its bounds, 0 if not.",
      labelNames: CHECK_LABELS,
      registers,
    }),
    duration: new Gauge({
      name: "db_check_duration_seconds",
      help: "Duration of the custom check's query in the last cycle that ran it, in seconds.",
      labelNames: CHECK_LABELS,
      registers,
    }),
  };
}
