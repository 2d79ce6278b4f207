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
   * completed therefore shows up at most 2 × maxAgeMs later, and in the first scrape that comes
   * more than 2 × maxAgeMs after the previous render. 0 renders for every scrape (concurrent
   * scrapes still share one render).
   * @default 1000
   */
  maxAgeMs?: number;
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
  let current: { at: number; body: MetricsBody } | undefined;
  let inflight: Promise<MetricsBody> | undefined;

  const renderBody = async (): Promise<MetricsBody> => {
    // The window starts when rendering starts: what it shows is at most maxAge old.
    const at = now();
    const identity = Buffer.from(await options.render());
    let zipped: Promise<Buffer> | undefined;
    const body: MetricsBody = { identity, gzip: () => (zipped ??= gzip(identity, { level: 1 })) };
    current = { at, body };
    return body;
  };

  return {
    get(waitMs) {
      const age = current ? now() - current.at : Infinity;
      if (current && age < maxAge) return Promise.resolve(current.body);
      const rendering = (inflight ??= renderBody().finally(() => {
        inflight = undefined;
      }));
      // Stale-while-revalidate: the render goes on for the next scrapes; a failure shows there.
      if (current && age < 2 * maxAge) {
        rendering.catch(() => undefined);
        return Promise.resolve(current.body);
      }
      if (!current || waitMs === undefined) return rendering;
      // Older than 2 × maxAge: worth waiting for, but not past the scrape's own time.
      const older = current.body;
      rendering.catch(() => undefined);
      return within(rendering, waitMs, () => older);
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
