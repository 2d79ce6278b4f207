/**
 * A loopback TCP proxy that makes a healthy server look slow or broken: it can delay every chunk
 * in both directions (a slow link or an overloaded server) or silently drop every byte while
 * keeping the connections open (a stalled link: nothing arrives and nothing errors). The mode
 * applies to traffic from the moment it is set, on connections old and new. Loopback only.
 */
import { connect, createServer, type Socket } from "node:net";

export interface ProxyMode {
  /** delay added to every chunk, each direction */
  latencyMs?: number;
  /** discard every byte, each direction, without closing anything */
  drop?: boolean;
}

export interface FaultProxy {
  readonly port: number;
  set(mode: ProxyMode): void;
  /** client connections currently open through the proxy */
  openConnections(): number;
  close(): Promise<void>;
}

export async function faultProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<FaultProxy> {
  let mode: ProxyMode = {};
  const pairs = new Set<[Socket, Socket]>();

  /** forwards from → to under the current mode, keeping chunk order when delaying */
  const pipe = (from: Socket, to: Socket): void => {
    let chain = Promise.resolve();
    from.on("data", (chunk: Buffer) => {
      if (mode.drop) return;
      const delay = mode.latencyMs ?? 0;
      if (delay <= 0) {
        chain = chain.then(() => void to.write(chunk));
        return;
      }
      const due = Date.now() + delay;
      chain = chain.then(
        () =>
          new Promise<void>((resolve) => {
            setTimeout(() => {
              if (!to.destroyed) to.write(chunk);
              resolve();
            }, Math.max(0, due - Date.now()));
          }),
      );
    });
  };

  const server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) {
      s.on("error", end);
      s.on("close", end);
    }
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no TCP address");
  return {
    port: address.port,
    set(next) {
      mode = { ...next };
    },
    openConnections: () => pairs.size,
    close: async () => {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
