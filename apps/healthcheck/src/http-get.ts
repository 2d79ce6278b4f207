/**
 * One bounded HTTP/1.1 GET over a plain socket (node:net, or node:tls for https), for
 * `healthcheck status`. node:http costs ~6 ms more of every start (its client, agent, parser
 * and message modules) than the request itself: this reads only what `status` needs — the
 * status code, `Location`, and the start of the body — and never more than its bounds.
 */
import { createRequire } from "node:module";
import type { Socket } from "node:net";

/** What {@link httpGet} read of an answer. */
export interface HttpAnswer {
  status: number;
  /** The `Location` header, when there is exactly one. */
  location: string | undefined;
  /** The start of the body, at most `max` bytes (decoded from chunks when it came in chunks). */
  body: Buffer;
  /** True when the body went on past `max` bytes (the rest was not read). */
  cut: boolean;
}

/** The most the status line and headers of one answer may take, as node:http allows. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** The most a chunk-size line (size and extensions) may take. */
const MAX_CHUNK_LINE_BYTES = 1024;

/** `HTTP/1.0` or `HTTP/1.1`, a three-digit code, and an optional reason. */
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: [\t\x20-\x7e\x80-\xff]*)?$/;
/** A header name: RFC 9110's token characters. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A header value (read as latin1): visible characters, spaces and tabs; no CR, LF, NUL or DEL. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const HEX_DIGIT = /^[0-9a-fA-F]$/;
const STATUS_PREFIX = "HTTP/1.";
/** Whether `bytes`, the start of an answer with no line end yet, could begin a status line. */
function couldStartStatusLine(bytes: Buffer): boolean {
  const n = Math.min(bytes.length, STATUS_PREFIX.length);
  return bytes.subarray(0, n).toString("latin1") === STATUS_PREFIX.slice(0, n);
}

/** What fetch() says when AbortSignal.timeout() ends it; `status` says the same. */
export const timedOut = (): Error => new Error("The operation was aborted due to timeout");

/**
 * GET `url` (http: or https:, certificates checked as node:https checks them) with `headers`
 * and `Connection: close`, and resolve with the answer's status, `Location` and at most `max`
 * bytes of its body; the connection is dropped then. Interim 1xx answers are skipped.
 * Rejects on an answer that is not HTTP/1.x, a head over 16 KiB, a body that ends before its
 * length, or when `signal` aborts (then with the timeout's message).
 *
 * @example
 * ```ts
 * const { status, body } = await httpGet(new URL("http://127.0.0.1:9091/readyz"), {}, 64 * 1024, AbortSignal.timeout(2000));
 * ```
 */
export function httpGet(url: URL, headers: Readonly<Record<string, string>>, max: number, signal: AbortSignal): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    if (signal.aborted) return reject(timedOut());
    // With require: an import() would start the ES module loader, which the bundled CLI
    // (CommonJS) otherwise never needs for `status`.
    const require = createRequire(import.meta.url);
    const net = require("node:net") as typeof import("node:net");
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const tls = url.protocol === "https:";
    const port = Number(url.port || (tls ? 443 : 80));
    const socket: Socket = tls
      ? (require("node:tls") as typeof import("node:tls")).connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }) })
      : net.connect({ host, port });
    const reader = answerReader(max);
    let settled = false;
    const end = (err: Error | undefined, answer?: HttpAnswer): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(answer!);
    };
    const onAbort = (): void => end(timedOut());
    signal.addEventListener("abort", onAbort, { once: true });
    socket.on("data", (chunk: Buffer) => {
      try {
        const answer = reader.push(chunk);
        if (answer) end(undefined, answer);
      } catch (err) {
        end(err as Error);
      }
    });
    socket.on("end", () => {
      try {
        end(undefined, reader.close());
      } catch (err) {
        end(err as Error);
      }
    });
    socket.on("error", (err) => end(signal.aborted ? timedOut() : err));
    socket.on("close", () => end(new Error("socket hang up")));
    const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), "Connection: close"];
    socket.write(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  });
}

/**
 * The answer's bytes in, the answer out: `push` returns the answer once it is complete (or its
 * body passed `max`), `close` when the server closed the connection. Throws on anything that is
 * not an HTTP/1.x answer. Exported for the tests, which feed it hostile bytes directly.
 */
export function answerReader(max: number): { push(chunk: Buffer): HttpAnswer | undefined; close(): HttpAnswer } {
  let pending: Buffer = Buffer.alloc(0);
  let status = 0;
  let location: string | undefined;
  /** "head": reading status line and headers; then how the body ends. */
  let mode: "head" | "length" | "chunk-size" | "chunk-data" | "chunk-end" | "close" = "head";
  let remaining = 0;
  const body: Buffer[] = [];
  let size = 0;

  const answer = (cut: boolean): HttpAnswer => ({ status, location, body: Buffer.concat(body, size).subarray(0, max), cut });
  /** Keeps body bytes; true once more than `max` are kept (the answer is then cut). */
  const keep = (bytes: Buffer): boolean => {
    if (bytes.length === 0) return false;
    body.push(bytes);
    size += bytes.length;
    return size > max;
  };
  const lineEnd = (from: number): number => pending.indexOf(10, from);

  // The head is read line by line as it comes, and each line is checked as soon as it is whole
  // (the status line as soon as its first bytes are): what is not HTTP is refused at once, not
  // when a blank line that may never come arrives.
  let headBytes = 0;
  /** Whether the current head's status line was read. */
  let haveStatus = false;
  /** Whether any byte came at all. */
  let received = false;
  let fields = new Map<string, string[]>();
  const tooLarge = (): Error => new Error(`the answer's headers are larger than ${MAX_HEAD_BYTES / 1024} KiB`);
  /** Reads head lines; true once a whole head (an interim one included) was read. */
  const readHead = (): boolean => {
    for (;;) {
      const nl = lineEnd(0);
      if (nl < 0) {
        if (headBytes + pending.length > MAX_HEAD_BYTES) throw tooLarge();
        if (!haveStatus && !couldStartStatusLine(pending)) throw new Error("the answer is not HTTP/1.x");
        return false;
      }
      headBytes += nl + 1;
      if (headBytes > MAX_HEAD_BYTES) throw tooLarge();
      let line = pending.subarray(0, nl).toString("latin1");
      pending = pending.subarray(nl + 1);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (!haveStatus) {
        const statusLine = STATUS_LINE.exec(line);
        if (!statusLine) throw new Error("the answer is not HTTP/1.x");
        status = Number(statusLine[1]);
        haveStatus = true;
        continue;
      }
      if (line !== "") {
        const colon = line.indexOf(":");
        const name = line.slice(0, colon);
        const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
        if (colon <= 0 || !TOKEN.test(name) || !FIELD_VALUE.test(value)) throw new Error("the answer has a malformed header line");
        const key = name.toLowerCase();
        fields.set(key, [...(fields.get(key) ?? []), value]);
        continue;
      }
      // The blank line: the head is whole.
      headBytes = 0;
      haveStatus = false;
      const head = fields;
      fields = new Map();
      // Interim answers (100 Continue, 103 Early Hints) come before the real one.
      if (status >= 100 && status < 200 && status !== 101) return true;
      bodyFrom(head);
      return true;
    }
  };
  /** How the body of an answer with these header fields ends. */
  const bodyFrom = (head: Map<string, string[]>): void => {
    const locations = head.get("location");
    location = locations?.length === 1 ? locations[0] : undefined;
    const encoding = head.get("transfer-encoding")?.join(",").toLowerCase();
    const lengths = head.get("content-length")?.flatMap((v) => v.split(",").map((l) => l.replace(/^[ \t]+|[ \t]+$/g, "")));
    // Both at once is how requests are smuggled past proxies: node:http refuses it, and so do we.
    if (encoding !== undefined && lengths !== undefined) throw new Error("the answer has both Transfer-Encoding and Content-Length");
    if (status === 101 || status === 204 || status === 304) {
      mode = "length";
      remaining = 0;
    } else if (encoding !== undefined && /(?:^|,)[ \t]*chunked[ \t]*$/.test(encoding)) {
      mode = "chunk-size";
    } else if (encoding !== undefined) {
      mode = "close";
    } else if (lengths !== undefined) {
      if (!lengths.every((l) => /^\d{1,15}$/.test(l)) || new Set(lengths.map(Number)).size !== 1) throw new Error("the answer has an invalid Content-Length");
      mode = "length";
      remaining = Number(lengths[0]);
    } else {
      mode = "close";
    }
  };

  /** Consumes what `pending` holds; returns the answer once there is one. */
  const step = (): HttpAnswer | undefined => {
    for (;;) {
      switch (mode) {
        case "head":
          if (!readHead()) return undefined;
          continue;
        case "close": {
          const cut = keep(pending);
          pending = Buffer.alloc(0);
          return cut ? answer(true) : undefined;
        }
        case "length": {
          const take = pending.subarray(0, remaining);
          pending = pending.subarray(take.length);
          remaining -= take.length;
          if (keep(take)) return answer(true);
          return remaining === 0 ? answer(false) : undefined;
        }
        case "chunk-size": {
          const nl = lineEnd(0);
          if (nl < 0) {
            // A chunk-size line starts with a hexadecimal digit: anything else is refused now.
            if (pending.length > MAX_CHUNK_LINE_BYTES || (pending.length > 0 && !HEX_DIGIT.test(String.fromCharCode(pending[0]!)))) {
              throw new Error("the answer has a malformed chunk");
            }
            return undefined;
          }
          const sizeLine = /^([0-9a-fA-F]{1,12})(?:[ \t]*;[^\r\n]*)?\r?$/.exec(pending.subarray(0, nl).toString("latin1"));
          if (!sizeLine) throw new Error("the answer has a malformed chunk");
          pending = pending.subarray(nl + 1);
          remaining = parseInt(sizeLine[1]!, 16);
          // The last chunk: trailers, if any, are not read.
          if (remaining === 0) return answer(false);
          mode = "chunk-data";
          continue;
        }
        case "chunk-data": {
          if (pending.length === 0) return undefined;
          const take = pending.subarray(0, remaining);
          pending = pending.subarray(take.length);
          remaining -= take.length;
          if (keep(take)) return answer(true);
          if (remaining > 0) return undefined;
          mode = "chunk-end";
          continue;
        }
        case "chunk-end": {
          if (pending.length < 1 || (pending[0] === 13 && pending.length < 2)) return undefined;
          const skip = pending[0] === 10 ? 1 : pending[0] === 13 && pending[1] === 10 ? 2 : -1;
          if (skip < 0) throw new Error("the answer has a malformed chunk");
          pending = pending.subarray(skip);
          mode = "chunk-size";
          continue;
        }
      }
    }
  };

  return {
    push(chunk) {
      received ||= chunk.length > 0;
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      return step();
    },
    close() {
      if (mode === "close") return answer(false);
      if (!received) throw new Error("socket hang up");
      throw new Error(mode === "head" ? "the connection closed inside the answer's headers" : "the connection closed before the answer's body ended");
    },
  };
}
