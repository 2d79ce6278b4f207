/** `healthcheck status`: a running daemon's /readyz, asked the way a Docker HEALTHCHECK does. */
import type { IncomingMessage } from "node:http";
import { createRequire } from "node:module";
import { errorMessage, redact } from "@alfred/db-health-core";
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
  if (url.username || url.password) {
    let credentials: string;
    try {
      credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    } catch {
      return notUrl(`has credentials with an invalid percent-escape: write "%" as %25`);
    }
    headers.authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
    url.username = "";
    url.password = "";
  }
  const shown = redact(url.href);
  try {
    const { status, body } = await get(url, headers, MAX_BODY_BYTES, AbortSignal.timeout(TIMEOUT_MS));
    const ok = status >= 200 && status <= 299;
    (ok ? io.stdout : io.stderr).write(`${status} ${redact(body.trim())}\n`);
    return ok ? EXIT.ok : EXIT.unhealthy;
  } catch (err) {
    io.stderr.write(`healthcheck status: no answer from ${shown}: ${errorMessage(err)}\n`);
    return EXIT.unhealthy;
  }
}

/** Redirects followed, as many as fetch() follows. */
const MAX_REDIRECTS = 20;

/**
 * GET `url` with node:http(s) and read the start of the answer's body, at most `max` bytes (the
 * rest is not read: the connection is dropped). Redirects are followed as fetch() follows them
 * (the credentials only to the same origin). node:http rather than fetch(): fetch loads Node's
 * built-in undici, ~15 ms of start-up for one request, paid at every HEALTHCHECK.
 */
async function get(url: URL, headers: Record<string, string>, max: number, signal: AbortSignal, redirects = 0): Promise<{ status: number; body: string }> {
  // Loaded when asked for, and with require: an import() would start the ES module loader, which
  // the bundled CLI (CommonJS) otherwise never needs for `status`.
  const require = createRequire(import.meta.url);
  const { request } = (url.protocol === "https:" ? require("node:https") : require("node:http")) as typeof import("node:http");
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    // No keep-alive agent: the process ends as soon as the answer is read.
    request(url, { headers: { ...headers, connection: "close" }, agent: false, signal }, resolve)
      .on("error", (err) => reject(signal.aborted ? timedOut() : err))
      .end();
  });
  const status = res.statusCode ?? 0;
  const location = res.headers.location;
  if ([301, 302, 303, 307, 308].includes(status) && location !== undefined) {
    res.destroy();
    if (redirects >= MAX_REDIRECTS) throw new Error("redirect count exceeded");
    const next = new URL(location, url);
    if (next.protocol !== "http:" && next.protocol !== "https:") throw new Error(`redirected to ${next.protocol} URL`);
    // node:http would send them as Basic auth to wherever the server points (fetch() refuses).
    if (next.username || next.password) throw new Error("redirected to a URL with credentials, which is not followed");
    return get(next, next.origin === url.origin ? headers : {}, max, signal, redirects + 1);
  }
  return { status, body: await readSome(res, max, signal) };
}

// The start of the body, at most `max` bytes; the rest is not read (the connection is dropped).
async function readSome(res: IncomingMessage, max: number, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.byteLength;
      if (size > max) break;
    }
  } catch (err) {
    throw signal.aborted ? timedOut() : err;
  } finally {
    res.destroy();
  }
  const text = Buffer.concat(chunks).subarray(0, max).toString("utf8");
  return size > max ? `${text}… (answer cut at ${max / 1024} KiB)` : text;
}

/** What fetch() says when AbortSignal.timeout() ends it. */
const timedOut = (): Error => new Error("The operation was aborted due to timeout");
