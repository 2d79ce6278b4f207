/**
 * The `/health` document: `application/health+json` as in the IETF draft "Health Check
 * Response Format for HTTP APIs" (draft-inadarei-api-health-check).
 */
import type { ProbeResult, Status } from "@alfred/db-health-core";
import { serviceReadiness, type ReadinessInput } from "./readiness.js";

/** The media type of the document. */
export const HEALTH_JSON = "application/health+json";

/** The draft's three states. */
export type HealthStatus = "pass" | "warn" | "fail";

/** One entry of `checks`; `engine`, `role` and `phases` are db-health's own extensions. */
export interface HealthCheck {
  componentId: string;
  componentType: "datastore" | "component";
  /** A number, or (`<target>:certificateExpiry`) an ISO 8601 time: the draft allows any JSON value. */
  observedValue?: number | string;
  observedUnit?: string;
  status: HealthStatus;
  /** When the observation was made (end of the probe cycle), ISO 8601. */
  time?: string;
  /** Why it is not `pass`; omitted on pass, as the draft asks. */
  output?: string;
  engine?: string;
  role?: string;
  /** Milliseconds per phase that ran this cycle (connect, ping, role, write, read, connections). */
  phases?: Record<string, number>;
  /** In `<target>:checks`: the custom check's name (`observedValue` is its value). */
  check?: string;
}

/** The whole document. */
export interface HealthDocument {
  status: HealthStatus;
  /** Public (major) version, per the draft; `releaseId` has the full one. */
  version: string;
  releaseId: string;
  serviceId: string;
  description: string;
  output?: string;
  checks: Record<string, HealthCheck[]>;
}

const STATE: Readonly<Record<Status, HealthStatus>> = { up: "pass", degraded: "warn", down: "fail" };
const RANK: Readonly<Record<HealthStatus, number>> = { pass: 0, warn: 1, fail: 2 };

/**
 * Builds the document from the latest results. Per target: `<target>:connection` (observed
 * value = the probe cycle's wall time, with per-phase times in `phases`), plus
 * `<target>:connections`, `<target>:replicationLag`, `<target>:connectionsMax` (the server's limit)
 * and `<target>:certificateExpiry` (the TLS certificate's notAfter, ISO 8601) when the driver
 * reported them, and `<target>:checks` with one entry per custom check the cycle ran (`warn`
 * when it failed).
 * A target with no finished cycle is `warn`; the extra readiness condition, when there is
 * one, is the `service:readiness` check, which fails with `stopping` once shutdown began (so
 * `/health` agrees with `/readyz`). Serve with HTTP 503 when `status` is `fail`.
 *
 * @example
 * ```ts
 * const doc = healthDocument({ ...state, version: "1.2.0" });
 * res.writeHead(doc.status === "fail" ? 503 : 200, { "content-type": HEALTH_JSON }).end(JSON.stringify(doc));
 * ```
 */
export function healthDocument(input: ReadinessInput & { version: string }): HealthDocument {
  const results = input.results();
  const checks: Record<string, HealthCheck[]> = {};
  for (const target of input.targets) Object.assign(checks, targetChecks(target, results.get(target)));
  const r = serviceReadiness(input);
  if (r) {
    checks["service:readiness"] = [
      { componentId: "service", componentType: "component", status: r.ok ? "pass" : "fail", time: new Date().toISOString(), ...(r.ok ? {} : { output: r.reason ?? "not ready" }) },
    ];
  }
  const all = Object.values(checks).flat();
  const status = all.reduce<HealthStatus>((worst, c) => (RANK[c.status] > RANK[worst] ? c.status : worst), "pass");
  const outputs = Object.entries(checks).flatMap(([name, list]) => list.filter((c) => c.output).map((c) => `${name}: ${c.output}`));
  return {
    status,
    version: input.version.split(".")[0] ?? input.version,
    releaseId: input.version,
    serviceId: "db-health",
    description: "db-health healthcheck: database probes",
    ...(status === "pass" ? {} : { output: outputs.join("; ") }),
    checks,
  };
}

function targetChecks(target: string, r: ProbeResult | undefined): Record<string, HealthCheck[]> {
  const base = { componentId: target, componentType: "datastore" as const };
  if (!r) return { [`${target}:connection`]: [{ ...base, status: "warn", output: "no probe cycle has finished yet" }] };
  const time = new Date(Math.round(r.startedAt + r.durationMs)).toISOString();
  const status = STATE[r.status];
  const phases: Record<string, number> = {};
  for (const [phase, p] of Object.entries(r.phases)) if (p) phases[phase] = round(p.ms);
  const output = r.problems.length > 0 ? r.problems.join("; ") : r.reason;
  const checks: Record<string, HealthCheck[]> = {
    [`${target}:connection`]: [
      { ...base, observedValue: round(r.durationMs), observedUnit: "ms", status, time, ...(status !== "pass" && output ? { output } : {}), engine: r.driver, role: r.role, phases },
    ],
  };
  // Figures are reported as observed; whether a count or a lag is too high is for alerting rules.
  if (r.connections !== undefined) checks[`${target}:connections`] = [{ ...base, observedValue: r.connections, status: "pass", time }];
  if (r.lagSeconds !== undefined) checks[`${target}:replicationLag`] = [{ ...base, observedValue: r.lagSeconds, observedUnit: "s", status: "pass", time }];
  // Custom checks: one entry each, `warn` when it failed (a failing check degrades, never downs).
  if (r.checks && r.checks.length > 0) {
    checks[`${target}:checks`] = r.checks.map((c) => ({
      ...base,
      check: c.name,
      ...(c.value === undefined ? {} : { observedValue: c.value }),
      status: c.ok ? "pass" : "warn",
      time,
      ...(c.ok || c.error === undefined ? {} : { output: c.error }),
    }));
  }
  // Capacity and TLS (issue 19): the server's connection limit, the certificate's notAfter.
  if (r.connectionsMax !== undefined) checks[`${target}:connectionsMax`] = [{ ...base, observedValue: r.connectionsMax, status: "pass", time }];
  if (r.certificateExpiresAt !== undefined) checks[`${target}:certificateExpiry`] = [{ ...base, observedValue: new Date(r.certificateExpiresAt).toISOString(), status: "pass", time }];
  return checks;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
