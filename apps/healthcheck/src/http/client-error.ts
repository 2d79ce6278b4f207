/** Answers to requests Node's HTTP parser rejects, closed so that the client can read them. */
import { maxHeaderSize, STATUS_CODES, type Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Duplex } from "node:stream";

const STATUS: Readonly<Record<string, number>> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

const WHY: Readonly<Record<number, string>> = {
  431: `request header fields too large: at most ${maxHeaderSize} bytes of request line and headers\n`,
  413: "chunk extensions too large\n",
  408: "request timeout: send the whole request promptly\n",
  400: "bad request: not a valid HTTP/1.1 request\n",
};

/** Options of {@link answerClientErrors}. */
export interface ClientErrorOptions {
  /** How long a socket keeps reading after the answer before it is destroyed (ms). */
  lingerMs: number;
  /** Whether a request is in flight on the socket: then no answer can be inserted safely. */
  busy(socket: object): boolean;
}

/**
 * Replaces Node's default `clientError` handling, which writes the status and destroys the
 * socket at once: when the client is still sending (a 100 KB header), the unread input makes
 * the kernel send a reset, and a reset makes the client discard the `431` it was about to read.
 * Here the answer is written with `Connection: close`, the socket is half-closed (FIN) and keeps
 * reading and discarding what the client still sends, for at most `lingerMs`, then destroyed.
 *
 * @example
 * ```ts
 * answerClientErrors(server, { lingerMs: 1000, busy: guard.busy });
 * ```
 */
export function answerClientErrors(server: HttpServer | HttpsServer, options: ClientErrorOptions): void {
  // The parser reports every later chunk of a broken request again; answer once.
  const answered = new WeakSet<Duplex>();
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (answered.has(socket)) return;
    answered.add(socket);
    // A reset peer hears nothing, and a second status line mid-response would corrupt it.
    if (err.code === "ECONNRESET" || !socket.writable || options.busy(socket)) return void socket.destroy();
    const status = STATUS[err.code ?? ""] ?? 400;
    const body = WHY[status] ?? WHY[400]!;
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\n\r\n${body}`,
    );
    socket.resume();
    const linger = setTimeout(() => socket.destroy(), options.lingerMs).unref();
    socket.once("close", () => clearTimeout(linger));
  });
}
