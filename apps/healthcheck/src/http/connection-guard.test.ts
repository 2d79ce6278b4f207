import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { waitFor } from "@alfred/db-health-testkit";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { selfSigned } from "./__fixtures__/http-fixtures.js";
import { guardConnections, type ConnectionGuard, type ConnectionLimits } from "./connection-guard.js";

// Real sockets on loopback. Clients come from different addresses of 127.0.0.0/8 (Linux answers
// for all of them) where a test is about one client against another.
const dir = mkdtempSync(join(tmpdir(), "dbh-guard-"));
const cleanup: Array<() => void> = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A server whose `/slow` answers only when `release()` is called: a request held in flight. `/wait`
 * is held too, but marked as only waiting: preempted, it answers "made way" and closes.
 */
async function serve(limits: ConnectionLimits, tls?: { cert: Buffer; key: Buffer }): Promise<{ port: number; guard: ConnectionGuard; release(): void; slow(): number }> {
  let waiting: Array<() => void> = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.url === "/slow") waiting.push(() => res.end("slow done"));
    else if (req.url === "/wait") {
      const unmark = guard.waiting(req.socket, () => res.writeHead(503, { connection: "close" }).end("made way"));
      waiting.push(() => (unmark(), res.writableEnded || res.end("wait done")));
    } else res.end("ok");
  };
  const server: Server = tls ? createHttpsServer(tls, handler) : createServer(handler);
  const guard = guardConnections(server, limits);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanup.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return {
    port: (server.address() as AddressInfo).port,
    guard,
    release: () => (waiting.forEach((f) => f()), (waiting = [])),
    slow: () => waiting.length,
  };
}

/** A raw client socket that records what it read (`closed` is true once it closed). */
function client(port: number, from = "127.0.0.1", send?: string): Socket & { got: string } {
  const s = connect({ port, host: "127.0.0.1", localAddress: from }) as Socket & { got: string };
  s.got = "";
  s.on("error", () => undefined);
  s.on("data", (b: Buffer) => (s.got += b.toString()));
  if (send) s.on("connect", () => s.write(send));
  cleanup.push(() => s.destroy());
  return s;
}

const accepted = (guard: ConnectionGuard, n: number): Promise<unknown> => waitFor(`${n} sockets accepted`, async () => guard.stats().open, (o) => o === n, 5_000, 10);
const SLOW = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
const WAIT = "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n";
const held = (s: { slow(): number }, n: number): Promise<unknown> => waitFor(`${n} requests held`, async () => s.slow(), (k) => k === n, 5_000, 10);

describe("guardConnections", () => {
  it("makes room for a newcomer by evicting the oldest idle socket, never one serving a request", async () => {
    const s = await serve({ maxConnections: 4, maxConnectionsPerClient: 4 });
    const a = client(s.port);
    await accepted(s.guard, 1);
    const b = client(s.port);
    await accepted(s.guard, 2);
    const busy = [client(s.port, undefined, SLOW), client(s.port, undefined, SLOW)];
    await waitFor("two requests in flight", async () => s.slow(), (n) => n === 2, 5_000, 10);

    const e = client(s.port);
    await waitFor("the oldest idle socket to be evicted", async () => a.closed, Boolean, 5_000, 10);
    expect([b.closed, e.closed]).toEqual([false, false]);
    client(s.port);
    await waitFor("the next oldest idle socket to be evicted", async () => b.closed, Boolean, 5_000, 10);
    expect(e.closed).toBe(false);
    expect(s.guard.stats()).toMatchObject({ open: 4, idle: 2, evicted: 2, refused: 0 });

    // the requests in flight were never candidates: both are answered
    s.release();
    await waitFor("both slow answers", async () => busy.map((c) => c.got), (g) => g.every((t) => t.includes("slow done")), 5_000, 10);
  });

  it("refuses a newcomer when every open socket is serving a request", async () => {
    const s = await serve({ maxConnections: 2, maxConnectionsPerClient: 2 });
    const busy = [client(s.port, undefined, SLOW), client(s.port, undefined, SLOW)];
    await waitFor("two requests in flight", async () => s.slow(), (n) => n === 2, 5_000, 10);
    const late = client(s.port, undefined, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await waitFor("the newcomer to be closed", async () => late.closed, Boolean, 5_000, 10);
    expect(late.got).toBe("");
    expect(s.guard.stats()).toMatchObject({ open: 2, refused: 1 });
    s.release();
    await waitFor("both slow answers", async () => busy.map((c) => c.got), (g) => g.every((t) => t.includes("slow done")), 5_000, 10);
  });

  it("a keep-alive socket is idle again after its answer, and then the newest idle socket", async () => {
    const s = await serve({ maxConnections: 3, maxConnectionsPerClient: 3 });
    const kept = client(s.port);
    await accepted(s.guard, 1);
    const other = client(s.port);
    await accepted(s.guard, 2);
    kept.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await waitFor("the keep-alive answer", async () => kept.got, (g) => g.includes("ok"), 5_000, 10);
    client(s.port);
    await accepted(s.guard, 3);
    // full: the newcomer evicts `other`, idle since its accept, not `kept`, idle since its answer
    client(s.port);
    await waitFor("the socket idle the longest to be evicted", async () => other.closed, Boolean, 5_000, 10);
    expect(kept.closed).toBe(false);
  });

  it("a client at its cap evicts its own oldest idle socket, not another client's older one", async () => {
    const s = await serve({ maxConnections: 10, maxConnectionsPerClient: 3 });
    const neighbour = client(s.port, "127.0.0.3");
    await accepted(s.guard, 1);
    const own = [client(s.port, "127.0.0.2")];
    await accepted(s.guard, 2);
    own.push(client(s.port, "127.0.0.2"), client(s.port, "127.0.0.2"));
    await accepted(s.guard, 4);
    client(s.port, "127.0.0.2");
    await waitFor("the client's own oldest socket to be evicted", async () => own[0]!.closed, Boolean, 5_000, 10);
    expect(neighbour.closed).toBe(false);
    expect(s.guard.stats()).toMatchObject({ open: 4, evicted: 1 });
  });

  it("holds for HTTPS: a socket still in its handshake is idle, a TLS request in flight is not", async () => {
    const files = selfSigned(dir, "guard");
    const cert = readFileSync(files.certFile);
    const s = await serve({ maxConnections: 2, maxConnectionsPerClient: 2 }, { cert, key: readFileSync(files.keyFile) });
    const handshaking = client(s.port);
    await accepted(s.guard, 1);
    let answer = "";
    const tls = tlsConnect({ port: s.port, host: "127.0.0.1", ca: cert }, () => tls.write(SLOW));
    tls.on("data", (b: Buffer) => (answer += b.toString()));
    tls.on("error", () => undefined);
    cleanup.push(() => tls.destroy());
    await waitFor("the TLS request in flight", async () => s.slow(), (n) => n === 1, 5_000, 10);
    // full: the newcomer evicts the socket that never finished its handshake
    const newcomer = client(s.port);
    await waitFor("the handshaking socket to be evicted", async () => handshaking.closed, Boolean, 5_000, 10);
    // full again: the next newcomer evicts that one, never the TLS socket serving a request
    client(s.port);
    await waitFor("the first newcomer to be evicted", async () => newcomer.closed, Boolean, 5_000, 10);
    expect(tls.destroyed).toBe(false);
    s.release();
    await waitFor("the TLS answer", async () => answer, (a) => a.includes("slow done"), 5_000, 10);
    expect(s.guard.stats()).toMatchObject({ evicted: 2, refused: 0 });
  });

  it("with nothing idle, a newcomer preempts the oldest waiting request (answered, then closed), never a request doing work", async () => {
    const s = await serve({ maxConnections: 3, maxConnectionsPerClient: 3 });
    const working = client(s.port, undefined, SLOW);
    await held(s, 1);
    const first = client(s.port, undefined, WAIT);
    await held(s, 2);
    const second = client(s.port, undefined, WAIT);
    await held(s, 3);
    const newcomer = client(s.port, undefined, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await waitFor("the oldest waiting request to make way", async () => first.closed, Boolean, 5_000, 10);
    expect(first.got).toMatch(/^HTTP\/1\.1 503 [^]*connection: close[^]*made way/);
    await waitFor("the newcomer's answer", async () => newcomer.got, (g) => g.includes("ok"), 5_000, 10);
    expect([working.closed, second.closed]).toEqual([false, false]);
    expect(s.guard.stats()).toMatchObject({ preempted: 1, refused: 0, waiting: 1 });
    s.release();
    await waitFor("the other answers", async () => [working.got, second.got], ([w, x]) => w!.includes("slow done") && x!.includes("wait done"), 5_000, 10);
    expect(s.guard.stats()).toMatchObject({ waiting: 0 });
  });

  it("a client at its cap preempts its own waiting request, not another client's older one", async () => {
    const s = await serve({ maxConnections: 10, maxConnectionsPerClient: 2 });
    const neighbour = client(s.port, "127.0.0.3", WAIT);
    await held(s, 1);
    const own = [client(s.port, "127.0.0.2", WAIT)];
    await held(s, 2);
    own.push(client(s.port, "127.0.0.2", WAIT));
    await held(s, 3);
    client(s.port, "127.0.0.2", "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await waitFor("the client's own oldest waiting request to make way", async () => own[0]!.closed, Boolean, 5_000, 10);
    expect([neighbour.closed, own[1]!.closed]).toEqual([false, false]);
    expect(s.guard.stats()).toMatchObject({ preempted: 1 });
  });

  it("when the server is full, the client holding the most sockets makes way, not a lighter client with an older request", async () => {
    const s = await serve({ maxConnections: 3, maxConnectionsPerClient: 3 });
    const light = client(s.port, "127.0.0.2", WAIT);
    await held(s, 1);
    const heavy = [client(s.port, "127.0.0.3", WAIT)];
    await held(s, 2);
    heavy.push(client(s.port, "127.0.0.3", WAIT));
    await held(s, 3);
    client(s.port, "127.0.0.4", "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await waitFor("the heavy client's oldest waiting request to make way", async () => heavy[0]!.closed, Boolean, 5_000, 10);
    expect([light.closed, heavy[1]!.closed]).toEqual([false, false]);
  });

  it("an idle socket within its grace is kept while a waiting request can make way; past it, it goes first", async () => {
    const s = await serve({ maxConnections: 3, maxConnectionsPerClient: 3, idleGraceMs: 300 });
    const waiters = [client(s.port, undefined, WAIT)];
    await held(s, 1);
    waiters.push(client(s.port, undefined, WAIT));
    await held(s, 2);
    const fresh = client(s.port);
    await accepted(s.guard, 3);
    // a reconnecting flooder: must not evict the socket just admitted before it sends its request
    client(s.port);
    await waitFor("the oldest waiting request to make way", async () => waiters[0]!.closed, Boolean, 5_000, 10);
    expect(fresh.closed).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    // past the grace, the socket idle the longest goes before a waiting request
    client(s.port);
    await waitFor("the stale idle socket to be evicted", async () => fresh.closed, Boolean, 5_000, 10);
    expect(waiters[1]!.closed).toBe(false);
    expect(s.guard.stats()).toMatchObject({ preempted: 1, evicted: 1 });
  });
});
