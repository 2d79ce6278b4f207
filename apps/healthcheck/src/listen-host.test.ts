import { describe, expect, it } from "vitest";
import { listenFailure, lookupListenHost } from "./listen-host.js";

describe("listen failures", () => {
  const listen = { host: "metrics.invalid", port: 9091 };
  const err = (code: string, message = code): Error => Object.assign(new Error(message), { code });

  it("says host not found for a name that does not resolve, naming the source", () => {
    expect(listenFailure(err("ENOTFOUND"), listen, "--export-prom")).toBe("cannot listen for --export-prom metrics.invalid:9091: host not found");
    expect(listenFailure(err("EAI_AGAIN"), listen, "DB_HEALTH_LISTEN")).toBe("cannot listen for DB_HEALTH_LISTEN metrics.invalid:9091: host not found (no answer from the DNS server, EAI_AGAIN)");
  });

  it("keeps the system's words for a port that cannot be bound, and ignores other errors", () => {
    const inUse = err("EADDRINUSE", "listen EADDRINUSE: address already in use 127.0.0.1:9091");
    expect(listenFailure(inUse, { host: "127.0.0.1", port: 9091 }, "--export-prom")).toBe("cannot listen for --export-prom: listen EADDRINUSE: address already in use 127.0.0.1:9091");
    expect(listenFailure(new Error("other"), listen, "--export-prom")).toBeUndefined();
  });

  it("looks up names only", async () => {
    await expect(lookupListenHost({ host: "127.0.0.1", port: 1 })).resolves.toBeUndefined();
    await expect(lookupListenHost({ host: undefined, port: 1 })).resolves.toBeUndefined();
    await expect(lookupListenHost({ host: "localhost", port: 1 })).resolves.toBeUndefined();
    await expect(lookupListenHost(listen)).rejects.toMatchObject({ code: expect.stringMatching(/^(ENOTFOUND|EAI_AGAIN)$/) });
  });
});
