/**
 * Has a connection's host name moved to other addresses since it connected? A persistent
 * connection stays on the node it reached; after a DNS-based failover (a Kubernetes Service, a
 * cloud endpoint, a CNAME switched to the new primary) the name points elsewhere and a new
 * client would reach another server, while the old node may well still answer and accept
 * writes. Core asks before reusing the connection, so the probe checks what the name means now.
 */
import { promises as dns } from "node:dns";
import { isIP } from "node:net";
import { performance } from "node:perf_hooks";
import type { ConnectionPeer } from "../health-table/connection-peer.js";
import { onAbort } from "./on-abort.js";

/** Resolves a host name to all its addresses, as clients do (`dns.lookup`: hosts file, then DNS). */
export type LookupAll = (host: string) => Promise<ReadonlyArray<{ address: string }>>;

const lookupAll: LookupAll = (host) => dns.lookup(host, { all: true });

/** What a lookup said, and when (`performance.now()`): the addresses, or that the name does not exist. */
type Known = ({ addresses: ReadonlySet<string> } | { gone: true }) & { at: number };
/** Or nothing to go by: the resolver failed for now. */
type Answer = Known | { unknown: true };

// The name resolves to nothing (NXDOMAIN, no address): a new client could not connect either.
const GONE = new Set(["ENOTFOUND", "ENODATA"]);

// One lookup at a time in the whole process, names queued, each name once. getaddrinfo runs on
// libuv's threadpool, which runs at most two such slow calls at once (with its default four
// threads) and cannot cancel one: lookups of a resolver that stopped answering would hold both,
// and every client's own connect by name, a healthy target's included, would wait behind them.
// These checks take one at most. A caller waits briefly for its name's turn and answer, else goes
// by the name's last answer (below); the queued lookup still runs and refreshes it.
const queued = new Map<string, Promise<Answer>>();
let tail: Promise<unknown> = Promise.resolve();
// The last answer per name, for a caller whose own lookup is late. Oldest names dropped beyond LATEST_MAX.
const latest = new Map<string, Known>();
const LATEST_MAX = 4096;

function resolveShared(host: string, lookup: LookupAll): Promise<Answer> {
  let answer = queued.get(host);
  if (!answer) {
    answer = tail
      .then(() => lookup(host))
      .then(
        (list): Answer => ({ addresses: new Set(list.map((a) => a.address.toLowerCase())), at: performance.now() }),
        (err: unknown): Answer => (GONE.has(String((err as { code?: unknown })?.code)) ? { gone: true, at: performance.now() } : { unknown: true }),
      )
      .then((a) => {
        if (!("unknown" in a)) {
          latest.delete(host);
          latest.set(host, a);
          if (latest.size > LATEST_MAX) latest.delete(latest.keys().next().value!);
        }
        return a;
      })
      .finally(() => queued.delete(host));
    queued.set(host, answer);
    tail = answer;
  }
  return answer;
}

/**
 * True when `peer.host` no longer resolves to `peer.address`: the name now gives other addresses
 * or none (ENOTFOUND: reconnecting then reports it). When the lookup does not answer within
 * `waitMs`, the name's last answer stands in for it if that answer came after `since` (when the
 * connection was made, `performance.now()`): an older one may predate the move that the
 * connection itself followed. False for an IP literal (nothing to resolve), for no peer (a unix
 * socket), when the resolver fails for now (EAI_AGAIN and other errors) or is late with nothing
 * newer to go by, and when `signal` aborts (shutdown): a slow or failing resolver says nothing
 * about the server, so the connection is kept.
 *
 * @example
 * ```ts
 * if (await peerMoved(adapter.peer?.(), 250, connectedAt, shutdown)) session.drop(); // reconnect
 * ```
 */
export async function peerMoved(peer: ConnectionPeer | undefined, waitMs: number, since = 0, signal?: AbortSignal, lookup: LookupAll = lookupAll): Promise<boolean> {
  if (!peer || isIP(peer.host) !== 0 || signal?.aborted) return false;
  let timer: NodeJS.Timeout | undefined;
  let forget: (() => void) | undefined;
  const noAnswer = new Promise<Answer>((resolve) => {
    timer = setTimeout(() => resolve({ unknown: true }), Math.max(1, waitMs));
    if (signal) forget = onAbort(signal, () => resolve({ unknown: true }));
  });
  try {
    let answer = await Promise.race([resolveShared(peer.host, lookup), noAnswer]);
    if ("unknown" in answer && !signal?.aborted) {
      const last = latest.get(peer.host);
      if (last && last.at >= since) answer = last;
    }
    if ("unknown" in answer) return false;
    return "gone" in answer || !answer.addresses.has(peer.address.toLowerCase());
  } finally {
    clearTimeout(timer);
    forget?.();
  }
}
