import { describe, expect, it } from "vitest";
import { peerMoved, type LookupAll } from "./peer-moved.js";
import { createDriver } from "./driver.js";
import type { DriverDefinition } from "../contract/driver-definition.js";
import type { ConnectionPeer } from "../health-table/connection-peer.js";

const answers = (...addresses: string[]): LookupAll => async () => addresses.map((address) => ({ address }));
/** A lookup that answers after `ms` (never one that does not answer: lookups run one at a time in the process). */
const after = (ms: number, result: Array<{ address: string }> | Error): LookupAll => () =>
  new Promise((resolve, reject) => setTimeout(() => (result instanceof Error ? reject(result) : resolve(result)), ms));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const coded = (code: string): Error => Object.assign(new Error(`getaddrinfo ${code} db.internal`), { code });

describe("peerMoved", () => {
  it("never resolves an IP literal, and has nothing to compare without a peer", async () => {
    let asked = 0;
    const lookup: LookupAll = async () => (asked++, []);
    expect(await peerMoved({ host: "10.0.0.7", address: "10.0.0.8" }, 1000, 0, undefined, lookup)).toBe(false);
    expect(await peerMoved({ host: "::1", address: "::1" }, 1000, 0, undefined, lookup)).toBe(false);
    expect(await peerMoved(undefined, 1000, 0, undefined, lookup)).toBe(false);
    expect(asked).toBe(0);
  });

  it("is false while the name still gives the address, whatever else it gives, in either case", async () => {
    expect(await peerMoved({ host: "db.internal", address: "fd00::A" }, 1000, 0, undefined, answers("10.0.0.1", "fd00::a"))).toBe(false);
  });

  it("is true when the name gives other addresses or none, or does not exist any more", async () => {
    const peer = { host: "moved.internal", address: "10.0.0.7" };
    expect(await peerMoved(peer, 1000, 0, undefined, answers("10.0.0.8"))).toBe(true);
    expect(await peerMoved(peer, 1000, 0, undefined, answers())).toBe(true);
    expect(await peerMoved(peer, 1000, 0, undefined, () => Promise.reject(coded("ENOTFOUND")))).toBe(true);
  });

  it("keeps the connection when the resolver fails for now, or is late with nothing newer than the connection to go by", async () => {
    const peer = { host: "slow.internal", address: "10.0.0.7" };
    expect(await peerMoved(peer, 1000, 0, undefined, () => Promise.reject(coded("EAI_AGAIN")))).toBe(false);
    // Waited for, the answer (10.0.0.8) would say moved.
    expect(await peerMoved(peer, 20, 0, undefined, after(150, [{ address: "10.0.0.8" }]))).toBe(false);
    await sleep(200); // the late lookup ends (and is remembered)
  });

  it("goes by the name's last answer when its lookup is late, if that answer came after the connection was made", async () => {
    const peer = { host: "late.internal", address: "10.0.0.7" };
    expect(await peerMoved(peer, 10, 0, undefined, after(50, [{ address: "10.0.0.8" }]))).toBe(false);
    await sleep(100);
    // Late again: the last answer (10.0.0.8) stands in, for a connection made before it...
    expect(await peerMoved(peer, 10, 0, undefined, after(100, [{ address: "10.0.0.8" }]))).toBe(true);
    await sleep(150);
    // ...and not for one made after it: that connection may have followed a move the answer predates.
    expect(await peerMoved({ ...peer, address: "10.0.0.9" }, 10, performance.now(), undefined, after(100, [{ address: "10.0.0.9" }]))).toBe(false);
    await sleep(150);
  });

  it("asks once per name at a time, and one name at a time in the process; callers meanwhile join the lookup in flight", async () => {
    let asked = 0;
    let answer: (list: Array<{ address: string }>) => void = () => undefined;
    const lookup: LookupAll = () => (asked++, new Promise((resolve) => (answer = resolve)));
    const peer = { host: "shared.internal", address: "10.0.0.7" };
    // The first caller gives up waiting; the lookup goes on, and the next callers join it.
    expect(await peerMoved(peer, 20, 0, undefined, lookup)).toBe(false);
    const joined = [peerMoved(peer, 5000, 0, undefined, lookup), peerMoved({ ...peer, address: "10.0.0.9" }, 5000, 0, undefined, lookup)];
    // Another name waits its turn: it is not looked up while this one is.
    let otherAsked = 0;
    const other = peerMoved({ host: "other.internal", address: "10.0.0.1" }, 5000, 0, undefined, async () => (otherAsked++, [{ address: "10.0.0.2" }]));
    await sleep(20);
    expect(otherAsked).toBe(0);
    answer([{ address: "10.0.0.7" }]);
    expect(await Promise.all(joined)).toEqual([false, true]);
    expect(await other).toBe(true);
    expect([asked, otherAsked]).toEqual([1, 1]);
    // Settled: the next call asks again.
    const next = peerMoved(peer, 5000, 0, undefined, lookup);
    await sleep(10);
    answer([{ address: "10.0.0.8" }]);
    expect(await next).toBe(true);
    expect(asked).toBe(2);
  });

  it("is false at once when shutdown aborts the wait, whatever the resolver does", async () => {
    const stop = new AbortController();
    // Waited for, the answer (10.0.0.8) would say moved.
    const moved = peerMoved({ host: "hung.internal", address: "10.0.0.7" }, 5000, 0, stop.signal, after(300, [{ address: "10.0.0.8" }]));
    setTimeout(() => stop.abort(), 10);
    expect(await moved).toBe(false);
    // Aborted before: not even asked.
    let asked = 0;
    expect(await peerMoved({ host: "x.internal", address: "10.0.0.7" }, 5000, 0, stop.signal, async () => (asked++, []))).toBe(false);
    expect(asked).toBe(0);
    await sleep(350);
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
