/** `healthcheck status`: a running daemon's /readyz, asked the way a Docker HEALTHCHECK does. */
import { errorMessage, redact, showable } from "@alfred/db-health-core";
import { httpGet } from "./http-get.js";
import { EXIT } from "./report.js";

/** Where `status` writes. */
export interface StatusIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
}

/** How long the daemon has to answer, headers and body. */
const TIMEOUT_MS = 2000;
/** The most of an answer that is read: /readyz says "ready" or lists its targets' reasons. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Asks `url` (default the local daemon's /readyz) and returns the exit code: 0 for a 2xx answer,
 * 1 otherwise or when nothing answers in time, 3 for a URL that is not one. Credentials in the URL
 * (`http://user:pass@host:9091/readyz`) become a basic-auth header and are never printed; at most
 * 64 KiB of the answer is read, so a hostile or broken server cannot make it hold memory.
 *
 * @example
 * ```ts
 * process.exitCode = await askStatus("http://127.0.0.1:9091/readyz", { stdout: process.stdout, stderr: process.stderr });
 * ```
 */
export async function askStatus(given: string | undefined, io: StatusIo): Promise<number> {
  const raw = given ?? "http://127.0.0.1:9091/readyz";
  const notUrl = (why: string): number => {
    io.stderr.write(`healthcheck status: "${redact(raw)}" ${why}\n`);
    return EXIT.config;
  };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return notUrl("is not a URL such as http://127.0.0.1:9091/readyz");
  }
  const headers: Record<string, string> = {};
  // What to hide if the server quotes it back in its answer (an echo of the request): the
  // password, and the header's base64 of user:password, which decodes to both.
  const secrets: string[] = [];
  if (url.username || url.password) {
    let credentials: string;
    try {
      credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      secrets.push(decodeURIComponent(url.password));
    } catch {
      return notUrl(`has credentials with an invalid percent-escape: write "%" as %25`);
    }
    const basic = Buffer.from(credentials).toString("base64");
    secrets.push(basic, basic.replace(/=+$/, ""));
    headers.authorization = `Basic ${basic}`;
    url.username = "";
    url.password = "";
  }
  // A plain timer rather than AbortSignal.timeout(), whose weak-reference bookkeeping costs
  // ~0.4 ms of a one-shot command; it ends the request the same way (see timedOut()).
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), TIMEOUT_MS).unref();
  // Only the request is in the try: a failure to print the answer (a full disk) is not the
  // daemon's silence.
  let answer: { status: number; body: string };
  try {
    answer = await get(url, headers, MAX_BODY_BYTES, deadline.signal);
  } catch (err) {
    io.stderr.write(`healthcheck status: no answer from ${redact(url.href)}: ${errorMessage(err, secrets)}\n`);
    return EXIT.unhealthy;
  } finally {
    clearTimeout(timer);
  }
  const ok = answer.status >= 200 && answer.status <= 299;
  (ok ? io.stdout : io.stderr).write(`${answer.status} ${showable(redact(answer.body.trim(), secrets))}\n`);
  return ok ? EXIT.ok : EXIT.unhealthy;
}

/** Redirects followed, as many as fetch() follows. */
const MAX_REDIRECTS = 20;

/**
 * GET `url` and read the start of the answer's body, at most `max` bytes (the rest is not read:
 * the connection is dropped). Redirects are followed as fetch() follows them (the credentials
 * only to the same origin). A small HTTP/1.1 client of our own (http-get.ts) rather than fetch()
 * (Node's undici, ~15 ms of start-up for one request) or node:http (~6 ms), paid at every
 * HEALTHCHECK.
 */
async function get(url: URL, headers: Record<string, string>, max: number, signal: AbortSignal, redirects = 0): Promise<{ status: number; body: string }> {
  const { status, location, body, cut } = await httpGet(url, headers, max, signal);
  if ([301, 302, 303, 307, 308].includes(status) && location !== undefined) {
    if (redirects >= MAX_REDIRECTS) throw new Error("redirect count exceeded");
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new Error("redirected to a Location that is not a URL");
    }
    if (next.protocol !== "http:" && next.protocol !== "https:") throw new Error(`redirected to ${next.protocol} URL`);
    // They would go out as Basic auth to wherever the server points (fetch() refuses).
    if (next.username || next.password) throw new Error("redirected to a URL with credentials, which is not followed");
    return get(next, next.origin === url.origin ? headers : {}, max, signal, redirects + 1);
  }
  const text = body.toString("utf8");
  return { status, body: cut ? `${text}… (answer cut at ${max / 1024} KiB)` : text };
}
