import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import { CORE_VERSION, errorMessage, type DbHealthMetrics, type ProbeResult } from "@alfred/db-health-core";
import { BASIC_CHALLENGE, createBasicAuth, type BasicAuth } from "./http/basic-auth.js";
import { answerClientErrors } from "./http/client-error.js";
import { guardConnections } from "./http/connection-guard.js";
import { HEALTH_JSON, healthDocument } from "./http/health-json.js";
import { HTTP_LIMITS } from "./http/http-limits.js";
import { acceptsGzip, createMetricsCache } from "./http/metrics-cache.js";
import { endpointList, landingPage } from "./http/landing-page.js";
import { createProbeCache } from "./http/probe-cache.js";
import { readiness } from "./http/readiness.js";
import { send, sendRedacted } from "./http/respond.js";
import { createTlsServer } from "./http/tls-server.js";
import type { WebConfig } from "./http/web-config.js";

export { HTTP_LIMITS } from "./http/http-limits.js";
export { loadWebConfig, type WebConfig } from "./http/web-config.js";

/** What the HTTP endpoints read, and the one thing they may do: probe a target on request. */
export interface HttpState {
  metrics: DbHealthMetrics;
  /** Latest result per target name; a target that has not finished a cycle is absent. */
  results(): ReadonlyMap<string, ProbeResult>;
  /** Names of every configured target. */
  targets: readonly string[];
  /** Runs (or joins) a probe cycle for one target now; the daemon also records it in metrics. */
  probe(target: string): Promise<ProbeResult>;
  /** Extra readiness condition (wrapper mode: the child is running and its port accepts TCP); undefined = none. */
  ready?(): { ok: boolean; reason?: string };
  /**
   * Aborted once the process is shutting down (a stop signal; wrapper mode: one forwarded to the
   * child): from then on `/readyz` and `/health` answer 503 `stopping`, however the targets are.
   */
  stopping?: AbortSignal;
  /** Version shown by `/health` and `/`. @default core's version */
  version?: string;
  /** The git commit the exporter was built from, shown by `/`. */
  revision?: string;
}

/** Options of {@link startHttpServer}. */
export interface HttpOptions {
  /** `/probe` answers from a result younger than this (ms) instead of probing again. */
  probeCacheMs: number;
  /**
   * `/metrics` serves a body rendered less than this long ago (ms) instead of rendering it for
   * every scrape; concurrent scrapes share one render. Under frequent scrapes the previous body
   * (at most twice this old) is served while the next renders, so a completed cycle shows up
   * at most 2 × this later. 0 renders for every scrape.
   * @default 1000
   */
  metricsMaxAgeMs?: number;
  /** Path of the metrics endpoint (`--web.telemetry-path`). @default "/metrics" */
  telemetryPath?: string;
  /** TLS and basic auth, from {@link loadWebConfig}. */
  webConfig?: WebConfig;
  /** Errors after start-up (a broken socket, a failing handler); logged, never fatal. */
  onError(err: Error): void;
}

// Target names are 1–63 of these (core's schema); anything else is echoed only as a description.
const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/;

/**
 * Serves `/metrics` (or `telemetryPath`), `/probe?target=NAME` (multi-target exporter pattern,
 * cached and single-flight per target), `/healthz`, `/readyz`, `/health`
 * (`application/health+json`) and a landing page on `/`, over HTTPS and behind basic auth when
 * the web config says so. Only GET and HEAD.
 *
 * @throws when the port cannot be bound (EADDRINUSE, EACCES).
 * @example
 * ```ts
 * const webConfig = plan.webConfigFile ? await loadWebConfig(plan.webConfigFile) : undefined;
 * const server = await startHttpServer(state, { host: undefined, port: 9091 }, {
 *   probeCacheMs: 5000,
 *   webConfig,
 *   onError: (err) => log.log("error", "http server error", { error: errorMessage(err) }),
 * });
 * ```
 */
export async function startHttpServer(
  state: HttpState,
  listen: { host: string | undefined; port: number },
  options: HttpOptions,
): Promise<Server | HttpsServer> {
  const users = options.webConfig?.basicAuthUsers;
  const auth = users ? createBasicAuth(users, { maxPending: HTTP_LIMITS.maxPendingVerifications, timeoutMs: HTTP_LIMITS.verifyTimeoutMs }) : undefined;
  const handle = createHandler(state, options, auth);
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      options.onError(err instanceof Error ? err : new Error(String(err)));
      if (!res.headersSent) send(res, 500, "internal error\n");
      else res.destroy();
    });
  };
  const tls = options.webConfig?.tls;
  const limits = {
    headersTimeout: HTTP_LIMITS.headersTimeoutMs,
    requestTimeout: HTTP_LIMITS.requestTimeoutMs,
    connectionsCheckingInterval: HTTP_LIMITS.checkIntervalMs,
  };
  const server = tls ? createTlsServer(tls, listener, { ...limits, handshakeTimeout: HTTP_LIMITS.handshakeTimeoutMs }) : createServer(limits, listener);
  server.keepAliveTimeout = HTTP_LIMITS.keepAliveTimeoutMs;
  server.maxRequestsPerSocket = HTTP_LIMITS.maxRequestsPerSocket;
  // No server.maxConnections: the guard bounds the sockets, evicting idle ones instead of
  // refusing newcomers, so a flood of idle sockets cannot keep /healthz out.
  const guard = guardConnections(server, HTTP_LIMITS);
  answerClientErrors(server, { lingerMs: HTTP_LIMITS.errorLingerMs, busy: guard.busy });
  server.once("close", () => void auth?.close());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      // After start-up a server error (EMFILE, a broken socket) is logged, never fatal.
      server.on("error", options.onError);
      resolve();
    });
  });
  return server;
}

function createHandler(state: HttpState, options: HttpOptions, auth: BasicAuth | undefined): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const cache = createProbeCache({ ttlMs: options.probeCacheMs, probe: (t) => state.probe(t), latest: (t) => state.results().get(t) });
  const version = state.version ?? CORE_VERSION;
  const telemetryPath = options.telemetryPath ?? "/metrics";
  const exposition = createMetricsCache({ render: () => state.metrics.render(), ...(options.metricsMaxAgeMs === undefined ? {} : { maxAgeMs: options.metricsMaxAgeMs }) });

  return async (req, res) => {
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    const path = q < 0 ? raw : raw.slice(0, q);
    // /healthz stays open so that a liveness probe needs no credentials.
    if (auth && path !== "/healthz") {
      const verdict = await auth.check(req.headers.authorization);
      // Busy is not "wrong password": the check did not run, and a right password must not be
      // told otherwise. Verified credentials (Prometheus's) never wait, so they never see it.
      if (verdict === "busy") return send(res, 429, "too many password checks at once; retry shortly\n", undefined, { "retry-after": "1" });
      if (verdict === "denied") return send(res, 401, "unauthorized\n", undefined, { "www-authenticate": BASIC_CHALLENGE });
    }
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "method not allowed: use GET or HEAD\n", undefined, { allow: "GET, HEAD" });

    if (path === telemetryPath) {
      const body = await exposition.get();
      const contentType = state.metrics.registry.contentType;
      if (acceptsGzip(req.headers["accept-encoding"])) {
        return sendRedacted(res, 200, await body.gzip(), contentType, { "content-encoding": "gzip", vary: "Accept-Encoding" });
      }
      return sendRedacted(res, 200, body.identity, contentType, { vary: "Accept-Encoding" });
    }
    switch (path) {
      case "/probe": {
        const params = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
        // Only a configured target's name: a DSN, host or port in the query string would let any
        // client point the exporter (and its credentials) at a server of their choosing.
        const other = [...new Set(params.keys())].filter((k) => k !== "target");
        if (other.length > 0) {
          const named = other.every((k) => TARGET_NAME.test(k)) ? other.join(", ") : "(not shown)";
          return send(res, 400, `unknown parameter ${named}: /probe takes only ?target=NAME of a configured target; DSNs and hosts come from the configuration, never from the query string\n`);
        }
        const targets = params.getAll("target");
        if (targets.length > 1) {
          // Answering for one of them would be a guess: a relabelling mistake should show, not pass.
          const shown = targets.slice(0, 3).map((t) => (TARGET_NAME.test(t) ? `"${t}"` : "(not a valid target name)")).join(", ") + (targets.length > 3 ? ", …" : "");
          return send(res, 400, `target given ${targets.length} times (${shown}): /probe takes exactly one ?target=NAME\n`);
        }
        return probe(params.get("target"), res);
      }
      case "/healthz":
        return send(res, 200, "ok\n");
      case "/readyz": {
        const { ok, reasons } = readiness(state);
        return send(res, ok ? 200 : 503, ok ? "ready\n" : `not ready:\n${reasons.map((r) => `${r}\n`).join("")}`);
      }
      case "/health": {
        const doc = healthDocument({ ...state, version });
        return send(res, doc.status === "fail" ? 503 : 200, `${JSON.stringify(doc)}\n`, HEALTH_JSON);
      }
      case "/": {
        const page = landingPage({ ...state, version, telemetryPath }, req.headers.accept);
        return send(res, 200, page.body, page.contentType, page.headers);
      }
      default:
        return send(res, 404, `not found; endpoints: ${endpointList(telemetryPath)}\n`);
    }
  };

  async function probe(target: string | null, res: ServerResponse): Promise<void> {
    if (target === null || !state.targets.includes(target)) {
      const valid = `valid targets: ${state.targets.join(", ")}`;
      if (target === null || target === "") return send(res, 400, `missing ?target=NAME; ${valid}\n`);
      // Never echo what could be a pasted DSN: only something shaped like a target name.
      const shown = TARGET_NAME.test(target) ? `"${target}"` : "(not a valid target name)";
      return send(res, 400, `unknown target ${shown}; ${valid}\n`);
    }
    try {
      await cache.get(target);
    } catch (err) {
      options.onError(err instanceof Error ? err : new Error(String(err)));
      return send(res, 500, `probe of "${target}" failed: ${errorMessage(err)}\n`);
    }
    // The daemon has put the result into the shared registry; serving that target's slice of
    // it keeps counters and histograms cumulative across scrapes. Only that target's lines are
    // rendered, not the whole registry (a multi-target exporter gets one /probe per target).
    return send(res, 200, state.metrics.renderTarget(target), state.metrics.registry.contentType);
  }
}
