/**
 * Bounded, fair connections: at most so many sockets in all and per client, and when a new
 * socket finds no room, the oldest idle socket makes way for it instead of the newcomer being
 * refused; with no idle socket, the oldest request that is only waiting (a `/probe` waiting for a
 * probe cycle) is answered `503` and its socket closed. Any other request is never cut short.
 */
import type { Server as NetServer, Socket } from "node:net";
import { performance } from "node:perf_hooks";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Server as TlsServer } from "node:tls";
import { clientKey } from "./client-address.js";

/** Caps of {@link guardConnections}. */
export interface ConnectionLimits {
  /** Sockets open at once, all clients together (file descriptors are shared with the probes). */
  maxConnections: number;
  /** Sockets open at once from one client: an IPv4 address, or an IPv6 /64. */
  maxConnectionsPerClient: number;
  /** A preempted request's socket is destroyed this long after its answer, if still open (ms). @default 1000 */
  errorLingerMs?: number;
  /**
   * An idle socket younger than this (ms since its accept or its last answer) is evicted only
   * when no waiting request can be preempted instead: a client that just connected is about to
   * send its request. @default 250
   */
  idleGraceMs?: number;
}

/** What {@link guardConnections} tells about the sockets it tracks. */
export interface ConnectionGuard {
  /** Whether a request is in flight on this socket (the one a request or `clientError` names). */
  busy(socket: object): boolean;
  /**
   * Marks the request on `socket` as only waiting (for a probe cycle, not doing work of its
   * own): when a newcomer finds no idle socket to evict, the oldest waiting request makes way.
   * `answer` is then called to answer it (it should say `Connection: close`), and the socket is
   * closed. Returns the function that unmarks it once it has its own answer.
   */
  waiting(socket: object, answer: () => void): () => void;
  /** Sockets open now, and how many were evicted, preempted or refused since the start. */
  stats(): { open: number; idle: number; waiting: number; evicted: number; preempted: number; refused: number };
}

interface Client {
  key: string;
  open: number;
  /** This client's idle sockets, oldest first. */
  idle: Set<Tracked>;
  /** This client's sockets whose request only waits, oldest first. */
  waiting: Set<Tracked>;
}

interface Tracked {
  /** The TCP socket: destroying it also ends a TLS connection layered on it. */
  tcp: Socket;
  client: Client;
  /** Requests in flight (more than one when a client pipelines). */
  busy: number;
  closed: boolean;
  /** `performance.now()` when it last became idle. */
  idleSince: number;
  /** Set while the socket's request only waits: answers it when it must make way. */
  answer?: () => void;
}

/**
 * Applies the connection policy to `server` (HTTP or HTTPS). A socket is idle from its accept
 * until its first complete request head, and again between keep-alive requests; only idle
 * sockets are evicted, oldest first: first among the newcomer's own client when that client is
 * at its cap (so one client cannot push out another's sockets), else among all. With no idle
 * socket to evict, the oldest request marked {@link ConnectionGuard.waiting} is preempted: of the
 * newcomer's own client when that client is at its cap, else of the client holding the most
 * sockets (so a flood from one address preempts its own requests before a scraper's). With
 * neither, the newcomer is closed. Do not also set `server.maxConnections`: Node would refuse the
 * newcomer before this policy sees it.
 *
 * Why evict rather than refuse: sockets that connect and send nothing cost an attacker nothing,
 * and refusing newcomers once they fill the server would refuse `/healthz` too. Eviction keeps
 * the server answering anyone who sends a request promptly, even from the attacker's address.
 * Why preempt waiting requests: a `/probe` of a hung database waits up to a whole cycle (23 s
 * with the defaults); 256 of them from one address would otherwise hold every socket that
 * address, or with two addresses the server, may have, and keep `/healthz` out just the same.
 *
 * @example
 * ```ts
 * const guard = guardConnections(server, { maxConnections: 512, maxConnectionsPerClient: 256 });
 * server.on("clientError", (err, socket) => (guard.busy(socket) ? socket.destroy() : answer(socket)));
 * ```
 */
export function guardConnections(server: NetServer, limits: ConnectionLimits): ConnectionGuard {
  const idle = new Set<Tracked>(); // every client's idle sockets, oldest first (a Set keeps insertion order)
  const waiting = new Set<Tracked>(); // every socket whose request only waits, oldest first
  const clients = new Map<string, Client>();
  const bySocket = new WeakMap<object, Tracked>();
  // HTTPS requests arrive on a TLSSocket made inside Node from the TCP socket; the TCP 4-tuple
  // (unique among open connections) links the two once the handshake is done.
  const handshaking = server instanceof TlsServer ? new Map<string, Tracked>() : undefined;
  let open = 0;
  let evicted = 0;
  let preempted = 0;
  let refused = 0;
  const lingerMs = limits.errorLingerMs ?? 1_000;
  const graceMs = limits.idleGraceMs ?? 250;

  const rest = (t: Tracked): void => {
    t.idleSince = performance.now();
    idle.add(t);
    t.client.idle.add(t);
  };
  const wake = (t: Tracked): void => {
    idle.delete(t);
    t.client.idle.delete(t);
  };
  const settle = (t: Tracked): void => {
    t.answer = undefined;
    waiting.delete(t);
    t.client.waiting.delete(t);
  };
  const forget = (t: Tracked): void => {
    if (t.closed) return;
    t.closed = true;
    wake(t);
    settle(t);
    open--;
    if (--t.client.open === 0) clients.delete(t.client.key);
  };
  const oldest = (set: Set<Tracked>): Tracked | undefined => set.values().next().value;
  // The oldest socket in `pick(client)` of the client taking the most room among those that have
  // one, provided it takes at least `least` sockets: a newcomer never takes a socket from a client
  // lighter than its own. Scanned only when the server is full and no socket is stale-idle, over
  // at most maxConnections clients.
  const heaviest = (pick: (c: Client) => Set<Tracked>, least: number): Tracked | undefined => {
    let found: Client | undefined;
    for (const c of clients.values()) if (pick(c).size > 0 && c.open >= least && (!found || c.open > found.open)) found = c;
    return found && oldest(pick(found));
  };
  const preempt = (t: Tracked): void => {
    const answer = t.answer!;
    // Bookkeeping first, synchronously, as for an eviction; then the answer, and the socket goes.
    forget(t);
    preempted++;
    try {
      answer();
    } finally {
      t.tcp.end();
      setTimeout(() => t.tcp.destroy(), lingerMs).unref();
    }
  };

  server.on("connection", (tcp: Socket) => {
    const key = clientKey(tcp.remoteAddress);
    if (key === undefined) return void tcp.destroy();
    const known = clients.get(key);
    const atCap = known !== undefined && known.open >= limits.maxConnectionsPerClient;
    if (atCap || open >= limits.maxConnections) {
      // The oldest idle socket past its grace, else the oldest waiting request, else the oldest
      // idle socket: of the newcomer's own client when it is at its cap, else (the server is full)
      // of the heaviest client, never of one lighter than the newcomer's. Without the grace, a
      // client whose waiting request was preempted and who reconnects at once would evict the
      // socket just admitted in its place before that socket's request (a /healthz) is read.
      const first = oldest(atCap ? known.idle : idle);
      const stale = first && performance.now() - first.idleSince >= graceMs ? first : undefined;
      const least = (known?.open ?? 0) + 1;
      const waiter = stale ? undefined : atCap ? oldest(known.waiting) : heaviest((c) => c.waiting, least);
      const victim = stale ?? (waiter ? undefined : atCap ? first : heaviest((c) => c.idle, least));
      if (victim) {
        // Bookkeeping first, synchronously: the count must not wait for the socket's close event.
        forget(victim);
        evicted++;
        victim.tcp.destroy();
      } else if (waiter) preempt(waiter);
      else {
        refused++;
        return void tcp.destroy();
      }
    }
    const client = clients.get(key) ?? { key, open: 0, idle: new Set<Tracked>(), waiting: new Set<Tracked>() };
    clients.set(key, client);
    const t: Tracked = { tcp, client, busy: 0, closed: false, idleSince: 0 };
    open++;
    client.open++;
    rest(t);
    bySocket.set(tcp, t);
    const tuple = handshaking ? fourTuple(tcp) : "";
    handshaking?.set(tuple, t);
    tcp.once("close", () => {
      forget(t);
      handshaking?.delete(tuple);
    });
  });

  if (handshaking) {
    server.on("secureConnection", (tls: Socket) => {
      const tuple = fourTuple(tls);
      const t = handshaking.get(tuple);
      handshaking.delete(tuple);
      if (t) bySocket.set(tls, t);
    });
  }

  // Before the server's own handler, which may mark the request as waiting in its first tick.
  server.prependListener("request", (req: IncomingMessage, res: ServerResponse) => {
    const t = bySocket.get(req.socket);
    if (!t || t.closed) return;
    if (t.busy++ === 0) wake(t);
    res.once("close", () => {
      // Idle again, and now the newest idle socket: a keep-alive client that just got its answer
      // is the last to be evicted.
      if (--t.busy > 0 || t.closed) return;
      settle(t);
      rest(t);
    });
  });

  return {
    busy: (socket) => (bySocket.get(socket)?.busy ?? 0) > 0,
    waiting(socket, answer) {
      const t = bySocket.get(socket);
      // A pipelining client's socket carries other requests too: it is not only waiting.
      if (!t || t.closed || t.busy !== 1) return () => undefined;
      t.answer = answer;
      waiting.add(t);
      t.client.waiting.add(t);
      return () => {
        if (t.answer === answer) settle(t);
      };
    },
    stats: () => ({ open, idle: idle.size, waiting: waiting.size, evicted, preempted, refused }),
  };
}

const fourTuple = (s: Socket): string => `${s.remoteAddress}|${s.remotePort}|${s.localAddress}|${s.localPort}`;
