/**
 * Bounded, fair connections: at most so many sockets in all and per client, and when a new
 * socket finds no room, the oldest idle socket makes way for it instead of the newcomer being
 * refused. A socket serving a request is never evicted.
 */
import type { Server as NetServer, Socket } from "node:net";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Server as TlsServer } from "node:tls";
import { clientKey } from "./client-address.js";

/** Caps of {@link guardConnections}. */
export interface ConnectionLimits {
  /** Sockets open at once, all clients together (file descriptors are shared with the probes). */
  maxConnections: number;
  /** Sockets open at once from one client: an IPv4 address, or an IPv6 /64. */
  maxConnectionsPerClient: number;
}

/** What {@link guardConnections} tells about the sockets it tracks. */
export interface ConnectionGuard {
  /** Whether a request is in flight on this socket (the one a request or `clientError` names). */
  busy(socket: object): boolean;
  /** Sockets open now, and how many were evicted or refused since the start. */
  stats(): { open: number; idle: number; evicted: number; refused: number };
}

interface Client {
  key: string;
  open: number;
  /** This client's idle sockets, oldest first. */
  idle: Set<Tracked>;
}

interface Tracked {
  /** The TCP socket: destroying it also ends a TLS connection layered on it. */
  tcp: Socket;
  client: Client;
  /** Requests in flight (more than one when a client pipelines). */
  busy: number;
  closed: boolean;
}

/**
 * Applies the connection policy to `server` (HTTP or HTTPS). A socket is idle from its accept
 * until its first complete request head, and again between keep-alive requests; only idle
 * sockets are evicted, oldest first: first among the newcomer's own client when that client is
 * at its cap (so one client cannot push out another's sockets), else among all. With no idle
 * socket to evict, the newcomer is closed. Do not also set `server.maxConnections`: Node would
 * refuse the newcomer before this policy sees it.
 *
 * Why evict rather than refuse: sockets that connect and send nothing cost an attacker nothing,
 * and refusing newcomers once they fill the server would refuse `/healthz` too. Eviction keeps
 * the server answering anyone who sends a request promptly, even from the attacker's address.
 *
 * @example
 * ```ts
 * const guard = guardConnections(server, { maxConnections: 512, maxConnectionsPerClient: 256 });
 * server.on("clientError", (err, socket) => (guard.busy(socket) ? socket.destroy() : answer(socket)));
 * ```
 */
export function guardConnections(server: NetServer, limits: ConnectionLimits): ConnectionGuard {
  const idle = new Set<Tracked>(); // every client's idle sockets, oldest first (a Set keeps insertion order)
  const clients = new Map<string, Client>();
  const bySocket = new WeakMap<object, Tracked>();
  // HTTPS requests arrive on a TLSSocket made inside Node from the TCP socket; the TCP 4-tuple
  // (unique among open connections) links the two once the handshake is done.
  const handshaking = server instanceof TlsServer ? new Map<string, Tracked>() : undefined;
  let open = 0;
  let evicted = 0;
  let refused = 0;

  const rest = (t: Tracked): void => {
    idle.add(t);
    t.client.idle.add(t);
  };
  const wake = (t: Tracked): void => {
    idle.delete(t);
    t.client.idle.delete(t);
  };
  const forget = (t: Tracked): void => {
    if (t.closed) return;
    t.closed = true;
    wake(t);
    open--;
    if (--t.client.open === 0) clients.delete(t.client.key);
  };
  const oldest = (set: Set<Tracked>): Tracked | undefined => set.values().next().value;

  server.on("connection", (tcp: Socket) => {
    const key = clientKey(tcp.remoteAddress);
    if (key === undefined) return void tcp.destroy();
    const known = clients.get(key);
    const full = known !== undefined && known.open >= limits.maxConnectionsPerClient ? known.idle : open >= limits.maxConnections ? idle : undefined;
    if (full) {
      const victim = oldest(full);
      if (!victim) {
        refused++;
        return void tcp.destroy();
      }
      // Bookkeeping first, synchronously: the count must not wait for the socket's close event.
      forget(victim);
      evicted++;
      victim.tcp.destroy();
    }
    const client = clients.get(key) ?? { key, open: 0, idle: new Set<Tracked>() };
    clients.set(key, client);
    const t: Tracked = { tcp, client, busy: 0, closed: false };
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

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const t = bySocket.get(req.socket);
    if (!t || t.closed) return;
    if (t.busy++ === 0) wake(t);
    res.once("close", () => {
      // Idle again, and now the newest idle socket: a keep-alive client that just got its answer
      // is the last to be evicted.
      if (--t.busy === 0 && !t.closed) rest(t);
    });
  });

  return {
    busy: (socket) => (bySocket.get(socket)?.busy ?? 0) > 0,
    stats: () => ({ open, idle: idle.size, evicted, refused }),
  };
}

const fourTuple = (s: Socket): string => `${s.remoteAddress}|${s.remotePort}|${s.localAddress}|${s.localPort}`;
