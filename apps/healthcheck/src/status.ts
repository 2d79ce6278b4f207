/** `healthcheck status`: a running daemon's /readyz, asked the way a Docker HEALTHCHECK does. */
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
    const signal = AbortSignal.timeout(TIMEOUT_MS);
    const res = await fetch(url, { headers, signal });
    const body = (await readSome(res, MAX_BODY_BYTES)).trim();
    (res.ok ? io.stdout : io.stderr).write(`${res.status} ${redact(body)}\n`);
    return res.ok ? EXIT.ok : EXIT.unhealthy;
  } catch (err) {
    io.stderr.write(`healthcheck status: no answer from ${shown}: ${errorMessage((err as Error).cause ?? err)}\n`);
    return EXIT.unhealthy;
  }
}

// The start of the body, at most `max` bytes; the rest is not read (the connection is dropped).
async function readSome(res: Response, max: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size <= max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).subarray(0, max).toString("utf8");
  return size > max ? `${text}… (answer cut at ${max / 1024} KiB)` : text;
}
