import { createServer, type AddressInfo, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { childReadiness } from "./child-readiness.js";

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

describe("childReadiness", () => {
  it("reads whether the port listens from /proc, without connecting (each connection is a line in the database's log), and sees it close", async () => {
    let accepted = 0;
    const server = createServer((socket) => {
      accepted++;
      socket.destroy();
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const stop = new AbortController();
    const tcp = childReadiness(() => undefined, [{ host: "127.0.0.1", port: (server.address() as AddressInfo).port }], stop.signal);
    expect(tcp.ready()).toEqual({ ok: false, reason: "the database port does not accept TCP connections yet" });
    tcp.start();
    while (!tcp.ready().ok) await new Promise((r) => setTimeout(r, 10));
    // The database restarts inside the container: its port closes, readiness follows.
    server.close();
    while (tcp.ready().ok) await new Promise((r) => setTimeout(r, 10));
    expect(tcp.ready()).toEqual({ ok: false, reason: "the database port does not accept TCP connections yet" });
    expect(accepted).toBe(0);
    tcp.stop();
    stop.abort();
  });
});
