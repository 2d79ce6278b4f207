import { createServer, type AddressInfo, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { childReadiness } from "./child-readiness.js";

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

describe("childReadiness", () => {
  it("checks TCP until the port accepts, then no more: each check is an aborted connection in the database's log", async () => {
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
    // Two more of the one-second checks would have run by now.
    await new Promise((r) => setTimeout(r, 2500));
    expect(accepted).toBe(1);
    tcp.stop();
    stop.abort();
  });
});
