import { createServer, type AddressInfo, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { listensOn } from "./listening-sockets.js";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
const listen = async (host: string): Promise<number> => {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
};

describe("listensOn", () => {
  it("tells a listening port from a closed one by /proc, for IPv4, IPv6 and localhost", async () => {
    const port = await listen("127.0.0.1");
    expect(listensOn("127.0.0.1", port)).toBe(true);
    expect(listensOn("localhost", port)).toBe(true);
    // Bound to 127.0.0.1 only: another address is not served.
    expect(listensOn("127.0.0.2", port)).toBe(false);
    expect(listensOn("::1", port)).toBe(false);
    await new Promise((r) => servers.pop()!.close(r));
    expect(listensOn("127.0.0.1", port)).toBe(false);
    const v6 = await listen("::1");
    expect(listensOn("::1", v6)).toBe(true);
    expect(listensOn("[::1]", v6)).toBe(true);
    expect(listensOn("localhost", v6)).toBe(true);
    expect(listensOn("127.0.0.1", v6)).toBe(false);
  });

  it("counts a wildcard socket for every address of its family (and IPv4's, for ::)", async () => {
    const any4 = await listen("0.0.0.0");
    expect(listensOn("127.0.0.1", any4)).toBe(true);
    expect(listensOn("127.0.0.3", any4)).toBe(true);
    const any6 = await listen("::");
    expect(listensOn("127.0.0.1", any6)).toBe(true);
    expect(listensOn("::1", any6)).toBe(true);
  });

  it("reads /proc's IPv6 words for the forms an address takes", async () => {
    // An IPv4-mapped listener serves its IPv4 address.
    const mapped = await listen("::ffff:127.0.0.1");
    expect(listensOn("127.0.0.1", mapped)).toBe(true);
    expect(listensOn("::ffff:127.0.0.1", mapped)).toBe(true);
    expect(listensOn("0:0:0:0:0:ffff:7f00:1", mapped)).toBe(true);
    expect(listensOn("0:0:0:0:0:0:0:1", mapped)).toBe(false);
  });

  it("cannot tell for a host name other than localhost", () => {
    expect(listensOn("db.example", 5432)).toBeUndefined();
  });
});
