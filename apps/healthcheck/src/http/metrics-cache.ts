/** The `/metrics` body, rendered at most once per short window and shared by every scrape in it. */
import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";
import { within } from "./within.js";

const gzip = promisify(gzipCallback);

/** Options of {@link createMetricsCache}. */
export interface MetricsCacheOptions {
  /** Renders the exposition text (already redacted: core's `render()`). */
  render(): Promise<string>;
  /**
   * A body younger than this (ms) is served again instead of rendering anew. Up to twice this
   * age it is still served, while the next body renders in the background, so that no scrape
   * waits for a render while scrapes keep coming; an older body is never served. A cycle that
   * completed therefore shows up at most 2 × maxAgeMs later (a status change at the next scrape:
   * see `generation`), and in the first scrape that comes more than 2 × maxAgeMs after the
   * previous render. 0 renders for every scrape (concurrent
   * scrapes still share one render).
   * @default 1000
   */
  maxAgeMs?: number;
  /**
   * A number that changes when something must show on the next scrape (the daemon counts status
   * changes: a target gone down): a body rendered before the change is not served again, the
   * next scrape waits for a new render (as long as a scrape's budget allows).
   * @default no such changes
   */
  generation?: () => number;
  /** Clock, for tests. @default performance.now */
  now?: () => number;
}

/** One rendered body: the text's bytes, and its gzip form once a scrape asked for it. */
export interface MetricsBody {
  identity: Buffer;
  gzip(): Promise<Buffer>;
}

/** The cache itself: {@link MetricsCache.get} returns the current body. */
export interface MetricsCache {
  /**
   * The body to serve now: the cached one while it is fresh, else the render in flight or a new
   * one. With `waitMs` (a scrape's budget), a render that takes longer than that is not waited for
   * when an older body exists: that one is served (the render goes on for the next scrape).
   */
  get(waitMs?: number): Promise<MetricsBody>;
}

/**
 * At 1,000 targets the body is ~8 MB; rendering it (joining strings, encoding UTF-8) takes tens
 * of ms, and cycles complete many times a second, so rendering per scrape saturates the event
 * loop under frequent scrapes. Here a body is rendered once, encoded once, gzipped once (in
 * zlib's thread pool, off the event loop) and handed to every scrape within `maxAgeMs`; the
 * next one renders while scrapes still get the previous one (see `maxAgeMs` for the bound).
 *
 * @example
 * ```ts
 * const cache = createMetricsCache({ render: () => metrics.render() });
 * const body = await cache.get();
 * res.end(wantsGzip ? await body.gzip() : body.identity);
 * ```
 */
export function createMetricsCache(options: MetricsCacheOptions): MetricsCache {
  const maxAge = options.maxAgeMs ?? 1000;
  const now = options.now ?? (() => performance.now());
  const generation = options.generation ?? (() => 0);
  let current: { at: number; generation: number; body: MetricsBody } | undefined;
  let inflight: { generation: number; body: Promise<MetricsBody> } | undefined;

  const renderBody = async (): Promise<MetricsBody> => {
    // The window starts when rendering starts: what it shows is at most maxAge old.
    const at = now();
    const rendered = generation();
    const identity = Buffer.from(await options.render());
    let zipped: Promise<Buffer> | undefined;
    const body: MetricsBody = { identity, gzip: () => (zipped ??= gzip(identity, { level: 1 })) };
    // Two renders overlap only across a status change: the later one's body stays.
    if (!current || current.at <= at) current = { at, generation: rendered, body };
    return body;
  };
  // The render in flight, unless it began before the latest status change: then a new one.
  const rendering = (): Promise<MetricsBody> => {
    if (inflight && inflight.generation === generation()) return inflight.body;
    const started = { generation: generation(), body: renderBody() };
    inflight = started;
    void started.body
      .finally(() => {
        if (inflight === started) inflight = undefined;
      })
      .catch(() => undefined);
    return started.body;
  };

  return {
    get(waitMs) {
      // A body from before a status change is as good as none, but can stand in under a budget.
      const age = current && current.generation === generation() ? now() - current.at : Infinity;
      if (current && age < maxAge) return Promise.resolve(current.body);
      const next = rendering();
      // Stale-while-revalidate: the render goes on for the next scrapes; a failure shows there.
      if (current && age < 2 * maxAge) {
        next.catch(() => undefined);
        return Promise.resolve(current.body);
      }
      if (!current || waitMs === undefined) return next;
      // Older than 2 × maxAge, or from before a status change: worth waiting for, but not past
      // the scrape's own time.
      const older = current.body;
      next.catch(() => undefined);
      return within(next, waitMs, () => older);
    },
  };
}

/**
 * True when the request's `Accept-Encoding` allows gzip (Prometheus always sends it), i.e. it
 * names gzip or `*` without `q=0`.
 *
 * @example
 * ```ts
 * acceptsGzip("gzip, deflate"); // true
 * acceptsGzip("gzip;q=0, identity"); // false
 * ```
 */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (!header) return false;
  // An explicit gzip entry decides; `*` counts only when gzip is not named (RFC 9110 12.5.3).
  let wildcard: boolean | undefined;
  for (const part of String(header).toLowerCase().split(",")) {
    const [coding = "", ...params] = part.split(";").map((p) => p.trim());
    if (coding !== "gzip" && coding !== "*") continue;
    const q = params.find((p) => p.startsWith("q="));
    const accepted = q === undefined || Number(q.slice(2)) > 0;
    if (coding === "gzip") return accepted;
    wildcard = accepted;
  }
  return wildcard ?? false;
}
