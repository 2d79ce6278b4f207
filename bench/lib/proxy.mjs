// A loopback TCP proxy that counts round trips: one each time the client speaks after the
// server did (or first). Client-observed, so it counts what the network sees, batching included.
import { connect, createServer } from "node:net";
import { onCleanup } from "./cleanup.mjs";

/** Starts the proxy to `target`; `stats()` gives round trips and bytes since the last reset. */
export async function countingProxy(target) {
  let trips = 0;
  let up = 0;
  let down = 0;
  const sockets = new Set();
  const server = createServer((client) => {
    let last = "server";
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => sockets.delete(s));
    }
    client.on("data", (b) => {
      if (last === "server") trips++;
      last = "client";
      up += b.length;
      upstream.write(b);
    });
    upstream.on("data", (b) => {
      last = "server";
      down += b.length;
      client.write(b);
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const close = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  onCleanup("round-trip proxy", close);
  return {
    host: "127.0.0.1",
    port: server.address().port,
    stats: () => ({ trips, up, down }),
    reset: () => void (trips = up = down = 0),
    close,
  };
}
