/**
 * Loopback network faults for driver tests: a free port, a server that accepts and never
 * answers, a port that refuses, and an fd counter to prove nothing leaks. Loopback only.
 */
import { readdirSync } from "node:fs";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";

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
 *
 * @example
 * ```ts
 * const hole = await blackholeServer();
 * const r = await createDriver({ dsn: `postgres://u@127.0.0.1:${hole.port}/db`, connectTimeout: "500ms" }).probe();
 * expect(r.status).toBe("down");
 * expect(hole.openSockets()).toBe(0); // the driver closed what it opened
 * await hole.close();
 * ```
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
 *
 * @example
 * ```ts
 * const dsn = `mysql://root@tcp(127.0.0.1:${await refusedPort()})/test`;
 * ```
 */
export async function refusedPort(): Promise<number> {
  return freePort();
}

/**
 * Open file descriptors of this process (Linux `/proc/self/fd`; the listing's own fd is
 * included: compare counts, not absolutes).
 *
 * @example
 * ```ts
 * const before = openFds();
 * for (let i = 0; i < 1000; i++) await driver.probe();
 * expect(Math.abs(openFds() - before)).toBeLessThanOrEqual(2);
 * ```
 */
export function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

/**
 * A free TCP port on 127.0.0.1 (listen on 0, read, close), for a throwaway server.
 *
 * @example
 * ```ts
 * const port = await freePort();
 * ```
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1", exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("could not read a free port"))));
    });
  });
}

/** What {@link tcpProxy} returns. */
export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** Connections open through it now (a closed or dropped connection leaves this). */
  open(): number;
  /** Connections accepted since start. */
  accepted(): number;
  /** Destroys every connection through it and stops listening. */
  close(): Promise<void>;
}

/**
 * A TCP proxy on a loopback address to `to` (a port on 127.0.0.1), counting the connections
 * through it: how a driver's connections show from outside (closed by eviction or idleness, or
 * moved to another address). `host` and `port` choose where it listens (another loopback address,
 * such as 127.0.0.2, stands for another node); port 0 takes a free one.
 *
 * @example
 * ```ts
 * const old = await tcpProxy({ to: 5432, host: "127.0.0.2" });
 * const next = await tcpProxy({ to: 5432, host: "127.0.0.3", port: old.port }); // the same port on another "node"
 * expect(old.open()).toBe(1);
 * ```
 */
export async function tcpProxy(options: { to: number; host?: string; port?: number }): Promise<TcpProxy> {
  const host = options.host ?? "127.0.0.1";
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    const upstream = connect(options.to, "127.0.0.1");
    sockets.add(client).add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end).on("close", end).pipe(upstream);
    upstream.on("error", end).on("close", end).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: options.port ?? 0, host, exclusive: true }, () => resolve());
  });
  return {
    host,
    port: (server.address() as AddressInfo).port,
    open: () => sockets.size / 2,
    accepted: () => accepted,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
