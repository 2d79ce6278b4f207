/**
 * A loopback proxy in front of PostgreSQL that counts the statements clients send through it, by
 * reading the frontend side of the wire protocol: each simple Query ('Q') and each Execute ('E')
 * of the extended protocol is one statement the server runs. Plain TCP only (a client that asks
 * for TLS is refused the upgrade with 'N', as a server without TLS would, and goes on in clear).
 */
import { connect, createServer, type Socket } from "node:net";

export interface StatementCounter {
  readonly port: number;
  /** Statements sent since the start (or the last reset), by their first word, upper-cased. */
  counts(): Map<string, number>;
  total(): number;
  reset(): void;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;

/**
 * Starts the proxy on 127.0.0.1 in front of `targetPort`.
 *
 * @example
 * ```ts
 * const counter = await statementCounter(5432);
 * // point the client at counter.port, then:
 * counter.total(); // statements the server was sent
 * ```
 */
export async function statementCounter(targetPort: number, targetHost = "127.0.0.1"): Promise<StatementCounter> {
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const count = (sql: string): void => {
    const word = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? "?";
    counts.set(word, (counts.get(word) ?? 0) + 1);
  };
  const server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => sockets.delete(s));
    }
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    upstream.on("data", (b: Buffer) => client.write(b));
    let buffered = Buffer.alloc(0);
    let started = false;
    // The SQL of each unnamed or named Parse, so that an Execute can be counted by its first word.
    const prepared = new Map<string, string>();
    let portal = "";
    client.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        if (!started) {
          // untyped start-up messages: length, then a code (SSLRequest/GSSENCRequest or the protocol)
          if (buffered.length < 8) return;
          const length = buffered.readInt32BE(0);
          if (length < 8) return void client.destroy();
          if (buffered.length < length) return;
          const code = buffered.readInt32BE(4);
          const packet = buffered.subarray(0, length);
          buffered = buffered.subarray(length);
          if (code === SSL_REQUEST || code === GSS_REQUEST) client.write("N");
          else {
            upstream.write(packet);
            started = true;
          }
          continue;
        }
        if (buffered.length < 5) return;
        const length = buffered.readInt32BE(1);
        if (length < 4) return void client.destroy();
        if (buffered.length < 1 + length) return;
        const type = String.fromCharCode(buffered[0]!);
        const body = buffered.subarray(5, 1 + length);
        if (type === "Q") count(cstring(body, 0));
        else if (type === "P") {
          const name = cstring(body, 0);
          prepared.set(name, cstring(body, Buffer.byteLength(name) + 1));
        } else if (type === "B") {
          const portalName = cstring(body, 0);
          portal = prepared.get(cstring(body, Buffer.byteLength(portalName) + 1)) ?? "?";
        } else if (type === "E") count(portal);
        upstream.write(buffered.subarray(0, 1 + length));
        buffered = buffered.subarray(1 + length);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    counts: () => new Map(counts),
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    reset: () => counts.clear(),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function cstring(buf: Buffer, from: number): string {
  const end = buf.indexOf(0, from);
  return buf.toString("utf8", from, end < 0 ? buf.length : end);
}
