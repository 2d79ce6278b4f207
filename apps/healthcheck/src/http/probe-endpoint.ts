/** `/probe?target=NAME` and `/probe?module=NAME&target=HOST:PORT[/DB]`: the multi-target exporter pattern, within the scrape's time. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { errorMessage, redact, type DbHealthMetrics, type ProbeResult } from "@alfred/db-health-core";
import type { DiscoveredTargets } from "../discovery/discovered-targets.js";
import { createProbeCache } from "./probe-cache.js";
import { readProbeRequest } from "./probe-request.js";
import { createProbeWaiters } from "./probe-waiters.js";
import { send, sendRedacted, TEXT } from "./respond.js";
import { answerWithin, type ProbeAnswer, type ScrapeBudget } from "./scrape-budget.js";
import { unfinishedExposition } from "./unfinished-exposition.js";

/** What the endpoint reads and does (a subset of `HttpState` and `HttpOptions`). */
export interface ProbeEndpointOptions {
  metrics: DbHealthMetrics;
  targets: readonly string[];
  results(): ReadonlyMap<string, ProbeResult>;
  /** When a configured target's connection was last lost (ms since the epoch), if ever. */
  lostAt?(target: string): number | undefined;
  /** Runs (or joins) a cycle and resolves with its result; a cycle it starts fits in `budget`. */
  probe(target: string, budget?: ScrapeBudget): Promise<ProbeResult>;
  /** Discovered targets (`modules:`), if any are configured. */
  discovered?: DiscoveredTargets;
  probeCacheMs: number;
  timeoutOffsetMs: number;
  onError(err: Error): void;
  /** Told when a scrape was answered before the target's cycle ended (for a debug log line). */
  onUnfinished?(target: string, reason: string): void;
  /** Requests that may wait on one target's cycle at once; beyond it `503` at once. @default 64 */
  maxWaitersPerTarget?: number;
  /**
   * Marks a request as only waiting, so that the connection guard may preempt it (calling
   * `answer`) when the server is full; returns the function that unmarks it.
   */
  waiting?(socket: object, answer: () => void): () => void;
}


/**
 * The `/probe` handler: the request is read in one place (probe-request.ts), a discovered target
 * is checked against its module's allow list (discovered-targets.ts), a result younger than the
 * cache interval is served as is, else a cycle runs (or the one in flight is joined) and the
 * scrape waits for it at most its budget. Configured and discovered targets share the cache, the
 * single flight and the budget. A scrape whose budget ends first gets the target down with the
 * reason, for that response only (unfinished-exposition.ts); the cycle goes on and its own result
 * is recorded and served when it ends. A request that would wait on a cycle is answered `503`
 * with `Retry-After` at once when `maxWaitersPerTarget` wait on it already, and while it waits it
 * may be preempted (`503`, connection closed) for a newer connection when the server has no
 * socket left: a wait must never keep `/healthz` out.
 *
 * @example
 * ```ts
 * const probe = createProbeEndpoint({ ...state, probeCacheMs: 5000, timeoutOffsetMs: 500, onError });
 * if (path === "/probe") return probe(req, res, query);
 * ```
 */
export function createProbeEndpoint(options: ProbeEndpointOptions): (req: IncomingMessage, res: ServerResponse, query: string) => Promise<void> {
  const cache = createProbeCache({ ttlMs: options.probeCacheMs, probe: (t, budget) => options.probe(t, budget), latest: (t) => options.results().get(t), ...(options.lostAt ? { lostAt: (t) => options.lostAt!(t) } : {}) });
  // A discovered target dropped from the LRU leaves nothing behind in the cache either.
  options.discovered?.onDrop((key) => cache.forget(key));
  const { metrics } = options;
  const waiters = createProbeWaiters(options.maxWaitersPerTarget ?? 64);
  // A retry after the cache interval finds the running cycle's result, or starts the next one.
  const retryAfter = String(Math.max(1, Math.ceil(options.probeCacheMs / 1000)));
  const context = { targets: options.targets, modules: options.discovered?.modules ?? [], timeoutOffsetMs: options.timeoutOffsetMs };

  /** Serves one target: `key` in the cache, `shown` in messages, `probe` to start its cycle. */
  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    key: string,
    shown: string,
    budget: ScrapeBudget | undefined,
    render: () => string,
    probe?: (budget?: ScrapeBudget) => Promise<ProbeResult>,
  ): Promise<void> => {
    let answer: ProbeAnswer;
    const cached = cache.fresh(key);
    if (cached) answer = { result: cached };
    else {
      const leave = waiters.enter(key);
      if (!leave) {
        // Closed after the answer: a client that asks again at once must connect again, rather
        // than spin on a keep-alive socket that the server answers in microseconds.
        return send(res, 503, `${waiters.count(key)} requests are waiting for the probe cycle of ${shown} already: retry once it ends\n`, TEXT, { connection: "close", "retry-after": retryAfter });
      }
      const preempted = `this /probe of ${shown} was waiting for its probe cycle when the server ran out of connections, and made way for a newer one: retry\n`;
      const unmark = options.waiting?.(req.socket, () => send(res, 503, preempted, TEXT, { connection: "close", "retry-after": retryAfter }));
      try {
        answer = await answerWithin(cache.get(key, budget, probe), budget);
      } catch (err) {
        options.onError(err instanceof Error ? err : new Error(String(err)));
        if (res.headersSent) return;
        return send(res, 500, `probe of ${shown} failed: ${errorMessage(err)}\n`);
      } finally {
        leave();
        unmark?.();
      }
      // Preempted while it waited: answered already, and the socket is closing.
      if (res.headersSent) return;
    }
    // The cycle's result is in the shared registry (a module's, for a discovered target); serving
    // that target's slice of it keeps counters and histograms cumulative across scrapes. Only that
    // target's lines are rendered, not the whole registry. They are redacted where they are made
    // (core redacts label values when a target's labels are set), as /metrics is: a second pass
    // over every answer was a sixth of the CPU of 1,000 targets scraped as Prometheus scrapes.
    // Only the reason of an unfinished answer is text made here, and is redacted here.
    const text = render();
    if ("result" in answer) return sendRedacted(res, 200, text, metrics.registry.contentType);
    options.onUnfinished?.(shown, answer.unfinished);
    return sendRedacted(res, 200, unfinishedExposition(text, redact(answer.unfinished)), metrics.registry.contentType);
  };

  return async (req, res, query) => {
    const request = readProbeRequest(query, req.headers, context);
    if ("status" in request) return send(res, request.status, request.message);
    if (!("module" in request)) {
      return serve(req, res, request.target, `"${request.target}"`, request.budget, () => metrics.renderTarget(request.target));
    }
    const held = options.discovered!.open(request.module, request.address);
    if ("status" in held) return send(res, held.status, held.message, TEXT, held.retryAfter ? { "retry-after": String(held.retryAfter) } : {});
    try {
      await serve(req, res, held.key, `${held.label} (module "${held.module}")`, request.budget, held.render, held.probe);
    } finally {
      held.release();
    }
  };
}
