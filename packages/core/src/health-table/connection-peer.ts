/**
 * Where a server connection is connected, for a dialect's `peer()`: the host name the client was
 * given and the address its socket reached. Core compares the two before reusing a connection
 * (probe/peer-moved.ts), so that a persistent connection follows its host name to another node.
 */

/** The host a connection was opened for and the address its socket is connected to. */
export interface ConnectionPeer {
  /** The host as configured: a DNS name (`db.internal`, `localhost`) or an IP literal. */
  host: string;
  /** The socket's remote IP address (`10.0.0.7`, `::1`). */
  address: string;
}

/**
 * The peer of a client's TCP socket: `host` as the client was given it and the socket's
 * `remoteAddress`; `undefined` for a unix socket, a closed socket, or anything else.
 *
 * @example
 * ```ts
 * // in a dialect: pg keeps its socket on client.connection.stream, the host on client.host
 * peer: () => socketPeer(client?.host, client?.connection?.stream),
 * ```
 */
export function socketPeer(host: unknown, socket: unknown): ConnectionPeer | undefined {
  if (typeof host !== "string" || host === "" || typeof socket !== "object" || socket === null) return undefined;
  const address = (socket as { remoteAddress?: unknown }).remoteAddress;
  return typeof address === "string" && address !== "" ? { host, address } : undefined;
}
