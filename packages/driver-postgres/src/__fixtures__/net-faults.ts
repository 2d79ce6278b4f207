/**
 * Loopback network faults for driver tests: a server that accepts and never answers, a port
 * that refuses, and an fd counter to prove nothing leaks. Test-only (excluded from the build).
 */
import { readdirSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { freePort } from "./pg-cluster.js";

export interface BlackholeServer {
  readonly port: number;
  /** connections accepted since start */
  connections(): number;
  /** accepted connections the client has not closed yet (a leak shows up here) */
  openSockets(): number;
  /** destroys every accepted socket and stops listening */
  close(): Promise<void>;
}

/**
 * A TCP listener on 127.0.0.1 that completes the handshake and then says nothing, like a
 * blackholed or hung server: only a client-side deadline can end the wait.
 */
export async function blackholeServer(): Promise<BlackholeServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    // Clients resetting the connection is the expected outcome, not an error.
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    // Never answer, but do drain: a stream that is never read never sees the client's FIN,
    // and openSockets() must drop when the client closes (that is what leak tests count).
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1" }, () => resolve());
  });
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("blackholeServer: no address");
  let closed: Promise<void> | undefined;
  return {
    port: address.port,
    connections: () => accepted,
    openSockets: () => sockets.size,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      })),
  };
}

/**
 * A port with nothing listening: connecting gets ECONNREFUSED. It was free a moment ago; another
 * process could take it in between, which on a test machine's ephemeral range is rare enough.
 */
export async function refusedPort(): Promise<number> {
  return freePort();
}

/** open file descriptors of this process (the listing's own fd is included: compare counts, not absolutes) */
export function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}
