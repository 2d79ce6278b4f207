/** `/probe?target=NAME`: the multi-target exporter pattern, within the scrape's time. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { errorMessage, type DbHealthMetrics, type ProbeResult } from "@alfred/db-health-core";
import { createProbeCache } from "./probe-cache.js";
import { readProbeRequest } from "./probe-request.js";
import { send } from "./respond.js";
import { answerWithin, type ScrapeBudget } from "./scrape-budget.js";
import { unfinishedExposition } from "./unfinished-exposition.js";

/** What the endpoint reads and does (a subset of `HttpState` and `HttpOptions`). */
export interface ProbeEndpointOptions {
  metrics: DbHealthMetrics;
  targets: readonly string[];
  results(): ReadonlyMap<string, ProbeResult>;
  /** Runs (or joins) a cycle and resolves with its result; a cycle it starts fits in `budget`. */
  probe(target: string, budget?: ScrapeBudget): Promise<ProbeResult>;
  probeCacheMs: number;
  timeoutOffsetMs: number;
  onError(err: Error): void;
  /** Told when a scrape was answered before the target's cycle ended (for a debug log line). */
  onUnfinished?(target: string, reason: string): void;
}

/**
 * The `/probe` handler: the request is read in one place (probe-request.ts), a result younger
 * than the cache interval is served as is, else a cycle runs (or the one in flight is joined) and
 * the scrape waits for it at most its budget. A scrape whose budget ends first gets the target
 * down with the reason, for that response only (unfinished-exposition.ts); the cycle goes on and
 * its own result is recorded and served when it ends.
 *
 * @example
 * ```ts
 * const probe = createProbeEndpoint({ ...state, probeCacheMs: 5000, timeoutOffsetMs: 500, onError });
 * if (path === "/probe") return probe(req, res, query);
 * ```
 */
export function createProbeEndpoint(options: ProbeEndpointOptions): (req: IncomingMessage, res: ServerResponse, query: string) => Promise<void> {
  const cache = createProbeCache({ ttlMs: options.probeCacheMs, probe: (t, budget) => options.probe(t, budget), latest: (t) => options.results().get(t) });
  const { metrics } = options;
  return async (req, res, query) => {
    const request = readProbeRequest(query, req.headers, options);
    if ("status" in request) return send(res, request.status, request.message);
    const { target, budget } = request;
    let answer;
    try {
      answer = await answerWithin(cache.get(target, budget), budget);
    } catch (err) {
      options.onError(err instanceof Error ? err : new Error(String(err)));
      return send(res, 500, `probe of "${target}" failed: ${errorMessage(err)}\n`);
    }
    // The daemon has put the result into the shared registry; serving that target's slice of
    // it keeps counters and histograms cumulative across scrapes. Only that target's lines are
    // rendered, not the whole registry (a multi-target exporter gets one /probe per target).
    const text = metrics.renderTarget(target);
    if ("result" in answer) return send(res, 200, text, metrics.registry.contentType);
    options.onUnfinished?.(target, answer.unfinished);
    return send(res, 200, unfinishedExposition(text, answer.unfinished), metrics.registry.contentType);
  };
}
