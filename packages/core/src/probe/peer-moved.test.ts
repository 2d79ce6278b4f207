import { describe, expect, it } from "vitest";
import { peerMoved, type LookupAll } from "./peer-moved.js";
import { createDriver } from "./driver.js";
import type { DriverDefinition } from "../contract/driver-definition.js";
import type { ConnectionPeer } from "../health-table/connection-peer.js";

const answers = (...addresses: string[]): LookupAll => async () => addresses.map((address) => ({ address }));

describe("peerMoved", () => {
  it("never resolves an IP literal, and has nothing to compare without a peer", async () => {
    let asked = 0;
    const lookup: LookupAll = async () => (asked++, []);
    expect(await peerMoved({ host: "10.0.0.7", address: "10.0.0.8" }, 1000, undefined, lookup)).toBe(false);
    expect(await peerMoved({ host: "::1", address: "::1" }, 1000, undefined, lookup)).toBe(false);
    expect(await peerMoved(undefined, 1000, undefined, lookup)).toBe(false);
    expect(asked).toBe(0);
  });

  it("is false while the name still gives the address, whatever else it gives, in either case", async () => {
    const peer = { host: "db.internal", address: "fd00::A" };
    expect(await peerMoved(peer, 1000, undefined, answers("10.0.0.1", "fd00::a"))).toBe(false);
  });

  it("is true when the name gives other addresses or none, or does not exist any more", async () => {
    const peer = { host: "db.internal", address: "10.0.0.7" };
    expect(await peerMoved(peer, 1000, undefined, answers("10.0.0.8"))).toBe(true);
    expect(await peerMoved(peer, 1000, undefined, answers())).toBe(true);
    const gone = Object.assign(new Error("getaddrinfo ENOTFOUND db.internal"), { code: "ENOTFOUND" });
    expect(await peerMoved(peer, 1000, undefined, () => Promise.reject(gone))).toBe(true);
  });

  it("keeps the connection when the resolver fails for now or does not answer in time: that says nothing about the server", async () => {
    const peer = { host: "slow.internal", address: "10.0.0.7" };
    const again = Object.assign(new Error("getaddrinfo EAI_AGAIN db.internal"), { code: "EAI_AGAIN" });
    expect(await peerMoved(peer, 1000, undefined, () => Promise.reject(again))).toBe(false);
    const t0 = performance.now();
    expect(await peerMoved(peer, 50, undefined, () => new Promise(() => undefined))).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it("asks once per name at a time: callers meanwhile, a late one included, join the lookup in flight", async () => {
    let asked = 0;
    let answer: (list: Array<{ address: string }>) => void = () => undefined;
    const lookup: LookupAll = () => (asked++, new Promise((resolve) => (answer = resolve)));
    const peer = { host: "shared.internal", address: "10.0.0.7" };
    // The first caller gives up waiting; the lookup goes on, and the next callers join it.
    expect(await peerMoved(peer, 20, undefined, lookup)).toBe(false);
    const joined = [peerMoved(peer, 5000, undefined, lookup), peerMoved({ ...peer, address: "10.0.0.9" }, 5000, undefined, lookup)];
    answer([{ address: "10.0.0.7" }]);
    expect(await Promise.all(joined)).toEqual([false, true]);
    expect(asked).toBe(1);
    // Settled: the next call asks again.
    const next = peerMoved(peer, 5000, undefined, lookup);
    answer([{ address: "10.0.0.8" }]);
    expect(await next).toBe(true);
    expect(asked).toBe(2);
  });

  it("goes by the name's last answer when its lookup is late: a slow resolver still moves the connection, a lookup later", async () => {
    const peer = { host: "late.internal", address: "10.0.0.7" };
    const lateAnswer: LookupAll = () => new Promise((resolve) => setTimeout(() => resolve([{ address: "10.0.0.8" }]), 50));
    expect(await peerMoved(peer, 10, undefined, lateAnswer)).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(await peerMoved(peer, 10, undefined, () => new Promise(() => undefined))).toBe(true);
    expect(await peerMoved({ ...peer, address: "10.0.0.8" }, 10, undefined, () => new Promise(() => undefined))).toBe(false);
  });

  it("is false at once when shutdown aborts the wait, whatever the resolver does", async () => {
    const stop = new AbortController();
    const t0 = performance.now();
    const moved = peerMoved({ host: "hung.internal", address: "10.0.0.7" }, 5000, stop.signal, () => new Promise(() => undefined));
    setTimeout(() => stop.abort(), 10);
    expect(await moved).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1000);
    // Aborted before: not even asked.
    let asked = 0;
    expect(await peerMoved({ host: "x.internal", address: "10.0.0.7" }, 5000, stop.signal, async () => (asked++, []))).toBe(false);
    expect(asked).toBe(0);
  });

  it("resolves a name the way clients do (the hosts file): localhost gives 127.0.0.1", async () => {
    expect(await peerMoved({ host: "localhost", address: "127.0.0.1" }, 2000)).toBe(false);
    expect(await peerMoved({ host: "localhost", address: "192.0.2.1" }, 2000)).toBe(true);
  });
});

/** An engine whose connection reports the peer it was given, counting connects. */
function peerEngine(peer: () => unknown) {
  const counts = { opened: 0, closed: 0 };
  const definition: DriverDefinition = {
    name: "peered",
    schemes: ["peered"],
    createAdapter: () => {
      let token: string | undefined;
      return {
        connect: async () => void counts.opened++,
        ping: async () => undefined,
        role: async () => ({ role: "primary", readOnly: false }),
        write: async (t) => void (token = t),
        read: async () => token,
        peer: () => peer() as ConnectionPeer | undefined,
        close: async () => void counts.closed++,
      };
    },
  };
  return { counts, definition };
}

describe("a persistent connection whose host name moved", () => {
  it("is replaced before the next cycle, which then measures a connect; kept while the name still gives its address", async () => {
    let peer: ConnectionPeer = { host: "localhost", address: "127.0.0.1" };
    const { counts, definition } = peerEngine(() => peer);
    const d = createDriver({ dsn: "peered://localhost/db", maxRetries: 0 }, { definition });
    expect((await d.probe()).status).toBe("up");
    const kept = await d.probe();
    expect(kept.phases.connect).toBeUndefined();
    expect(counts.opened).toBe(1);
    // What the socket would say had localhost meant another address when it connected.
    peer = { host: "localhost", address: "192.0.2.1" };
    const moved = await d.probe();
    expect(moved.status).toBe("up");
    expect(moved.phases.connect?.ok).toBe(true);
    expect(counts).toEqual({ opened: 2, closed: 1 });
    await d.close();
  });

  it("is kept for an IP literal, no peer, or a peer() that throws or answers nonsense", async () => {
    for (const answer of [() => ({ host: "127.0.0.1", address: "192.0.2.1" }), () => undefined, () => { throw new Error("boom"); }, () => ({ host: 7, address: null }), () => "localhost"]) {
      const { counts, definition } = peerEngine(answer);
      const d = createDriver({ dsn: "peered://h/db", maxRetries: 0 }, { definition });
      for (let i = 0; i < 3; i++) expect((await d.probe()).status).toBe("up");
      expect(counts.opened).toBe(1);
      await d.close();
    }
  });
});
