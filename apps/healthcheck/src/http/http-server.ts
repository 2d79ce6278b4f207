import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import { CORE_VERSION, type DbHealthMetrics, type ProbeResult } from "@alfred/db-health-core";
import { BASIC_CHALLENGE, createBasicAuth, type BasicAuth } from "./basic-auth.js";
import { answerClientErrors } from "./client-error.js";
import { guardConnections } from "./connection-guard.js";
import { HEALTH_JSON, healthDocument } from "./health-json.js";
import { HTTP_LIMITS } from "./http-limits.js";
import { acceptsGzip, createMetricsCache } from "./metrics-cache.js";
import { endpointList, landingPage } from "./landing-page.js";
import { createProbeEndpoint } from "./probe-endpoint.js";
import { readiness } from "./readiness.js";
import { send, sendRedacted } from "./respond.js";
import { scrapeBudget, SCRAPE_TIMEOUT_HEADER, type ScrapeBudget } from "./scrape-budget.js";
import { DEFAULT_TIMEOUT_OFFSET_MS } from "../config/settings.js";
import { createTlsServer } from "./tls-server.js";
import type { DiscoveredTargets } from "../discovery/discovered-targets.js";
import type { WebConfig } from "./web-config.js";

export { HTTP_LIMITS } from "./http-limits.js";
export { loadWebConfig, type WebConfig } from "./web-config.js";
export type { ScrapeBudget } from "./scrape-budget.js";

/** What the HTTP endpoints read, and the one thing they may do: probe a target on request. */
export interface HttpState {
  metrics: DbHealthMetrics;
  /** Latest result per target name; a target that has not finished a cycle is absent. */
  results(): ReadonlyMap<string, ProbeResult>;
  /**
   * When a target's connection was last lost (ms since the epoch), if ever: `/probe` then serves
   * no result from a cycle that began before it (probe-cache.ts).
   */
  lostAt?(target: string): number | undefined;
  /**
   * Changes whenever a target's status changed (the daemon counts them): `/metrics` then renders
   * anew for the next scrape instead of serving a body from before, so a target gone down shows
   * at once rather than up to 2 × `metricsMaxAgeMs` later.
   */
  statusChanges?(): number;
  /** Names of every configured target. */
  targets: readonly string[];
  /** Discovered targets (`/probe?module=NAME&target=HOST:PORT[/DB]`), when `modules:` are configured. */
  discovered?: DiscoveredTargets;
  /**
   * Runs (or joins) a probe cycle for one target now and resolves with its result; the daemon
   * also records it in metrics. A cycle started for a scrape fits in the scrape's `budget`
   * (its wait for a free slot included); joining one already running may take longer, which
   * the endpoint bounds.
   */
  probe(target: string, budget?: ScrapeBudget): Promise<ProbeResult>;
  /** Extra readiness condition (wrapper mode: the child is running and its port accepts TCP); undefined = none. */
  ready?(): { ok: boolean; reason?: string };
  /**
   * `aborted` while the process is shutting down (a stop signal; wrapper mode: one forwarded to the
   * child, until it exits or, if it goes on running, for a grace period): meanwhile `/readyz` and
   * `/health` answer 503 `stopping`, however the targets are.
   */
  stopping?: { readonly aborted: boolean };
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
   * at most 2 × this later (a status change at the next scrape, with `statusChanges`). 0
   * renders for every scrape.
   * @default 1000
   */
  metricsMaxAgeMs?: number;
  /** Path of the metrics endpoint (`--web.telemetry-path`). @default "/metrics" */
  telemetryPath?: string;
  /**
   * Taken off a scrape's `X-Prometheus-Scrape-Timeout-Seconds` to give `/probe` and `/metrics`
   * their time (`--web.timeout-offset`), in ms. @default 500
   */
  timeoutOffsetMs?: number;
  /** TLS and basic auth, from {@link loadWebConfig}. */
  webConfig?: WebConfig;
  /** Errors after start-up (a broken socket, a failing handler); logged, never fatal. */
  onError(err: Error): void;
  /** Told when a `/probe` scrape was answered before the target's cycle ended. */
  onUnfinished?(target: string, reason: string): void;
}


/**
 * Serves `/metrics` (or `telemetryPath`), `/probe?target=NAME` (multi-target exporter pattern,
 * cached and single-flight per target), `/healthz`, `/readyz`, `/health`
 * (`application/health+json`) and a landing page on `/`, over HTTPS and behind basic auth when
 * the web config says so. Only GET and HEAD. `/probe` and `/metrics` answer within a scrape's
 * `X-Prometheus-Scrape-Timeout-Seconds` less `timeoutOffsetMs`.
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
  // The handler marks waiting /probe requests with the guard, which exists once the server does.
  let guard: ReturnType<typeof guardConnections> | undefined;
  const handle = createHandler(state, options, auth, (socket, answer) => guard?.waiting(socket, answer) ?? (() => undefined));
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
  guard = guardConnections(server, HTTP_LIMITS);
  // CONNECT is not handled by the request listener: without this, Node closes the socket without
  // an answer. It gets the 405 every other method but GET and HEAD gets.
  server.on("connect", (_req: IncomingMessage, socket: Duplex) => {
    socket.on("error", () => undefined);
    socket.end("HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 36\r\nConnection: close\r\n\r\nmethod not allowed: use GET or HEAD\n");
  });
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

/**
 * A request target in absolute form (`GET http://host:9091/metrics HTTP/1.1`, which RFC 9112
 * §3.2.2 asks a server to accept) as the origin form the routes know (`/metrics`).
 */
export function originForm(target: string): string {
  const scheme = /^https?:\/\//i.exec(target);
  if (!scheme) return target;
  const rest = target.slice(scheme[0].length);
  const start = rest.search(/[/?]/);
  if (start < 0) return "/";
  return rest[start] === "?" ? `/${rest.slice(start)}` : rest.slice(start);
}

function createHandler(
  state: HttpState,
  options: HttpOptions,
  auth: BasicAuth | undefined,
  waiting: (socket: object, answer: () => void) => () => void,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const version = state.version ?? CORE_VERSION;
  const telemetryPath = options.telemetryPath ?? "/metrics";
  const timeoutOffsetMs = options.timeoutOffsetMs ?? DEFAULT_TIMEOUT_OFFSET_MS;
  const exposition = createMetricsCache({
    render: () => state.metrics.render(),
    ...(options.metricsMaxAgeMs === undefined ? {} : { maxAgeMs: options.metricsMaxAgeMs }),
    ...(state.statusChanges ? { generation: () => state.statusChanges!() } : {}),
  });
  const probe = createProbeEndpoint({
    ...state,
    probe: (target, budget) => state.probe(target, budget),
    probeCacheMs: options.probeCacheMs,
    timeoutOffsetMs,
    maxWaitersPerTarget: HTTP_LIMITS.maxProbeWaitersPerTarget,
    waiting,
    onError: options.onError,
    ...(options.onUnfinished ? { onUnfinished: options.onUnfinished } : {}),
  });

  return async (req, res) => {
    const raw = originForm(req.url ?? "/");
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

    if (path === telemetryPath) return metrics(req, res);
    switch (path) {
      case "/probe":
        return probe(req, res, q < 0 ? "" : raw.slice(q + 1));
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

  // Never waits on a probe: it serves what the cycles recorded. A scrape's budget only bounds
  // the wait for a render in flight when an older body can be served instead.
  async function metrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const budget = scrapeBudget(req.headers[SCRAPE_TIMEOUT_HEADER], timeoutOffsetMs);
    if (budget && "problem" in budget) return send(res, 400, `${budget.problem}\n`);
    const body = await exposition.get(budget ? budget.deadline - performance.now() : undefined);
    const contentType = state.metrics.registry.contentType;
    if (acceptsGzip(req.headers["accept-encoding"])) {
      return sendRedacted(res, 200, await body.gzip(), contentType, { "content-encoding": "gzip", vary: "Accept-Encoding" });
    }
    return sendRedacted(res, 200, body.identity, contentType, { vary: "Accept-Encoding" });
  }
}
