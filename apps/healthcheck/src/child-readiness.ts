/** Wrapper mode: whether the wrapped database is ready, beside the targets' own probes. */
import { parseDsn, type Driver } from "@alfred/db-health-core";
import { acceptsTcp, type WrappedChild } from "./wrapper.js";

/**
 * Wrapper mode readiness: the child runs and every loopback TCP target accepts connections,
 * checked once a second in the background (readiness must answer without waiting).
 *
 * @example
 * ```ts
 * const tcp = childReadiness(() => child, drivers, signal);
 * tcp.start(); // once the child runs
 * tcp.ready(); // { ok: false, reason: "the database port does not accept TCP connections yet" }
 * ```
 */
export function childReadiness(
  current: () => WrappedChild | undefined,
  drivers: readonly Driver[],
  signal: AbortSignal,
): { ready: () => { ok: boolean; reason?: string }; start: () => void; stop: () => void } {
  const endpoints = drivers
    .map((d) => parseDsn(d.config.dsn))
    .filter((p) => p.host !== undefined && p.port !== undefined && !p.socket)
    .map((p) => ({ host: p.host!, port: p.port! }));
  let tcpOk = endpoints.length === 0;
  let timer: NodeJS.Timeout | undefined;
  const check = async (): Promise<void> => {
    const all = await Promise.all(endpoints.map((e) => acceptsTcp(e.host, e.port)));
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
