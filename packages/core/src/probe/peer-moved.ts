/**
 * Has a connection's host name moved to other addresses since it connected? A persistent
 * connection stays on the node it reached; after a DNS-based failover (a Kubernetes Service, a
 * cloud endpoint, a CNAME switched to the new primary) the name points elsewhere and a new
 * client would reach another server, while the old node may well still answer and accept
 * writes. Core asks before reusing the connection, so the probe checks what the name means now.
 */
import { promises as dns } from "node:dns";
import { isIP } from "node:net";
import type { ConnectionPeer } from "../health-table/connection-peer.js";

/** Resolves a host name to all its addresses, as clients do (`dns.lookup`: hosts file, then DNS). */
export type LookupAll = (host: string) => Promise<ReadonlyArray<{ address: string }>>;

const lookupAll: LookupAll = (host) => dns.lookup(host, { all: true });

/**
 * True when `peer.host` no longer resolves to `peer.address`: the name now gives other
 * addresses, no address at all, an error, or no answer within `timeoutMs` (a new connection
 * could not be made either; reconnecting then reports why). False for an IP literal (nothing to
 * resolve), for no peer (a unix socket), and when `signal` aborts (shutdown) first.
 *
 * @example
 * ```ts
 * if (await peerMoved(adapter.peer?.(), 2000, shutdown)) session.drop(); // reconnect
 * ```
 */
export async function peerMoved(peer: ConnectionPeer | undefined, timeoutMs: number, signal?: AbortSignal, lookup: LookupAll = lookupAll): Promise<boolean> {
  if (!peer || isIP(peer.host) !== 0 || signal?.aborted) return false;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), Math.max(1, timeoutMs));
    timer.unref?.();
  });
  try {
    const answer = await Promise.race([lookup(peer.host).catch(() => "failed" as const), late]);
    if (signal?.aborted) return false;
    if (typeof answer === "string") return true;
    const at = peer.address.toLowerCase();
    return !answer.some((a) => a.address.toLowerCase() === at);
  } finally {
    clearTimeout(timer);
  }
}
