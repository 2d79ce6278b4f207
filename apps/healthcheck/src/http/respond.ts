/** The one way an HTTP body leaves the exporter: redacted, with a length and no caching. */
import type { ServerResponse } from "node:http";
import { redact } from "@alfred/db-health-core";

/** `text/plain` for everything that is not metrics or health JSON. */
export const TEXT = "text/plain; charset=utf-8";

/**
 * Sends `body` after redacting it. Results are redacted by core already; this second pass is
 * the backstop for anything that slips into a body later (a reason built from a driver's
 * message, a target name that is a DSN).
 *
 * @example
 * ```ts
 * send(res, 503, "not ready: orders: down\n");
 * send(res, 401, "unauthorized\n", TEXT, { "www-authenticate": BASIC_CHALLENGE });
 * ```
 */
export function send(res: ServerResponse, status: number, body: string, contentType = TEXT, headers: Record<string, string> = {}): void {
  const text = redact(body);
  res
    .writeHead(status, {
      "content-type": contentType,
      "content-length": String(Buffer.byteLength(text)),
      // Health answers go stale within seconds; a proxy must never serve an old one.
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...headers,
    })
    .end(text);
}

/**
 * Sends a body that was redacted where it was made, without the second pass of {@link send}:
 * the `/metrics` exposition (bytes, cached between scrapes) and a `/probe` answer (text: Node
 * writes the head and the text in one system call, where bytes go as a second buffer). Core
 * redacts label values when a target's labels are set and the other families as it renders
 * them. Redacting ~8 MB again on every scrape (1,000 targets) took half a second of CPU; see
 * docs/performance.md.
 *
 * @example
 * ```ts
 * sendRedacted(res, 200, body, registry.contentType, { "content-encoding": "gzip" });
 * ```
 */
export function sendRedacted(res: ServerResponse, status: number, body: Buffer | string, contentType: string, headers: Record<string, string> = {}): void {
  res
    .writeHead(status, {
      "content-type": contentType,
      "content-length": String(typeof body === "string" ? Buffer.byteLength(body) : body.length),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...headers,
    })
    .end(body);
}
