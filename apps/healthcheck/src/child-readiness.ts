/** Wrapper mode: whether the wrapped database is ready, beside the targets' own probes. */
import type { ParsedDsn } from "@alfred/db-health-core";
import { listensOn } from "./listening-sockets.js";
import { acceptsTcp, type WrappedChild } from "./wrapper.js";

/** A host and port that must accept TCP before a wrapped database counts as ready. */
export interface TcpEndpoint {
  host: string;
  port: number;
}

/**
 * The TCP addresses among the targets' parsed DSNs (not sockets, not files).
 *
 * @example
 * ```ts
 * tcpEndpoints(plan.targets.map((t) => t.dsn)); // [{ host: "127.0.0.1", port: 5432 }]
 * ```
 */
export function tcpEndpoints(dsns: readonly ParsedDsn[]): TcpEndpoint[] {
  return dsns.filter((p) => p.host !== undefined && p.port !== undefined && !p.socket).map((p) => ({ host: p.host!, port: p.port! }));
}

/**
 * Wrapper mode readiness: the child runs and every TCP target's port listens, checked once a
 * second in the background (readiness must answer without waiting). Where /proc tells (an IP
 * address or `localhost` on Linux), the check reads the listening sockets there and opens no
 * connection: a connection opened and dropped every second is a line in the database's log every
 * second (MariaDB's `Aborted connection … without authentication` warning, PostgreSQL's
 * `connection received` with log_connections). Elsewhere it connects, as before.
 *
 * @example
 * ```ts
 * const tcp = childReadiness(() => child, tcpEndpoints(plan.targets.map((t) => t.dsn)), signal);
 * tcp.start(); // once the child runs
 * tcp.ready(); // { ok: false, reason: "the database port does not accept TCP connections yet" }
 * ```
 */
export function childReadiness(
  current: () => WrappedChild | undefined,
  endpoints: readonly TcpEndpoint[],
  signal: AbortSignal,
): { ready: () => { ok: boolean; reason?: string }; start: () => void; stop: () => void } {
  let tcpOk = endpoints.length === 0;
  let timer: NodeJS.Timeout | undefined;
  const check = async (): Promise<void> => {
    const all = await Promise.all(endpoints.map((e) => listensOn(e.host, e.port) ?? acceptsTcp(e.host, e.port)));
    tcpOk = all.every(Boolean);
    if (!signal.aborted) timer = setTimeout(() => void check(), 1000).unref();
  };
  return {
    start: () => {
      if (endpoints.length > 0) void check();
    },
    ready: () => {
      const child = current()?.state();
      if (child && !child.running) return { ok: false, reason: `child ${child.command} is not running` };
      if (!tcpOk) return { ok: false, reason: "the database port does not accept TCP connections yet" };
      return { ok: true };
    },
    stop: () => clearTimeout(timer),
  };
}
