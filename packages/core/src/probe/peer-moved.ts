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
import { onAbort } from "./on-abort.js";

/** Resolves a host name to all its addresses, as clients do (`dns.lookup`: hosts file, then DNS). */
export type LookupAll = (host: string) => Promise<ReadonlyArray<{ address: string }>>;

const lookupAll: LookupAll = (host) => dns.lookup(host, { all: true });

/** What a lookup said: the addresses, that the name does not exist, or nothing to go by. */
type Answer = { addresses: ReadonlySet<string> } | { gone: true } | { unknown: true };

// The name resolves to nothing (NXDOMAIN, no address): a new client could not connect either.
const GONE = new Set(["ENOTFOUND", "ENODATA"]);

// One lookup per name at a time, joined by every target asking meanwhile: a slow resolver must
// not get a new lookup per target and cycle, each holding one of libuv's four threadpool threads
// (getaddrinfo cannot be cancelled) and queueing the clients' own lookups behind them.
const inFlight = new Map<string, Promise<Answer>>();
// The last answer per name, for a caller whose own lookup is late: a resolver slower than the
// wait still moves a connection, one lookup later. Oldest names dropped beyond LATEST_MAX.
const latest = new Map<string, Answer>();
const LATEST_MAX = 4096;

function resolveShared(host: string, lookup: LookupAll): Promise<Answer> {
  let answer = inFlight.get(host);
  if (!answer) {
    answer = lookup(host)
      .then(
        (list): Answer => ({ addresses: new Set(list.map((a) => a.address.toLowerCase())) }),
        (err: unknown): Answer => (GONE.has(String((err as { code?: unknown })?.code)) ? { gone: true } : { unknown: true }),
      )
      .then((a) => {
        if (!("unknown" in a)) {
          latest.delete(host);
          latest.set(host, a);
          if (latest.size > LATEST_MAX) latest.delete(latest.keys().next().value!);
        }
        return a;
      })
      .finally(() => inFlight.delete(host));
    inFlight.set(host, answer);
  }
  return answer;
}

/**
 * True when `peer.host` no longer resolves to `peer.address`: the name now gives other addresses
 * or none (ENOTFOUND: reconnecting then reports it). When the lookup does not answer within
 * `waitMs`, the name's last answer stands in for it (the lookup goes on, and a later call for the
 * same name joins it or reads what it found). False for an IP literal (nothing to resolve), for
 * no peer (a unix socket), when the resolver fails for now (EAI_AGAIN and other errors) or is late
 * with no answer before, and when `signal` aborts (shutdown): a slow or failing resolver says
 * nothing about the server, so the connection is kept.
 *
 * @example
 * ```ts
 * if (await peerMoved(adapter.peer?.(), 2000, shutdown)) session.drop(); // reconnect
 * ```
 */
export async function peerMoved(peer: ConnectionPeer | undefined, waitMs: number, signal?: AbortSignal, lookup: LookupAll = lookupAll): Promise<boolean> {
  if (!peer || isIP(peer.host) !== 0 || signal?.aborted) return false;
  let timer: NodeJS.Timeout | undefined;
  let forget: (() => void) | undefined;
  const noAnswer = new Promise<Answer>((resolve) => {
    timer = setTimeout(() => resolve({ unknown: true }), Math.max(1, waitMs));
    if (signal) forget = onAbort(signal, () => resolve({ unknown: true }));
  });
  try {
    let answer = await Promise.race([resolveShared(peer.host, lookup), noAnswer]);
    if ("unknown" in answer && !signal?.aborted) answer = latest.get(peer.host) ?? answer;
    if ("unknown" in answer) return false;
    return "gone" in answer || !answer.addresses.has(peer.address.toLowerCase());
  } finally {
    clearTimeout(timer);
    forget?.();
  }
}
