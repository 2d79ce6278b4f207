/**
 * Fault cases that read the same for every engine with a server: only the DSN and the way to
 * lock, kill and restart differ, so each engine's matrix passes those in.
 */
import { blackholeServer, refusedPort, waitFor } from "@alfred/db-health-testkit";
import type { ProbeResult } from "@alfred/db-health-core";
import { observeProbe, probeUntil, timedProbe, type CaseSpec } from "./case.js";
import { faultProxy } from "./proxy.js";

export function refusedCase(dsnFor: (port: number) => string): CaseSpec {
  return { fault: "refused port", expected: "down", run: async (ctx) => observeProbe(ctx.driver(dsnFor(await refusedPort()))) };
}

export function blackholeCase(dsnFor: (port: number) => string): CaseSpec {
  return {
    fault: "blackhole listener (accepts, never answers)",
    expected: "down",
    run: async (ctx) => {
      const hole = await blackholeServer();
      ctx.defer(() => hole.close());
      const o = await observeProbe(ctx.driver(dsnFor(hole.port)));
      await waitFor("the listener's sockets to close", async () => hole.openSockets(), (n) => n === 0, 2_000).catch(() => undefined);
      return { ...o, note: `connect deadline 1 s; ${hole.openSockets()} of ${hole.connections()} accepted sockets still open at the listener` };
    },
  };
}

/** down, and the password in no part of the report */
export function wrongPasswordCase(dsn: string, password: string): CaseSpec {
  return {
    fault: "wrong password",
    expected: "down",
    run: async (ctx) => {
      const o = await observeProbe(ctx.driver(dsn));
      return { ...o, observed: JSON.stringify(o).includes(password) ? "password in the report" : o.observed, note: "the password appears in no output (secret sweep covers every mode)" };
    },
  };
}

/** a proxy delaying every packet by `latencyMs`: up within the deadlines, down past them */
export function slowLinkCase(serverPort: number, dsnFor: (port: number) => string, latencyMs: number, expected: "up" | "down"): CaseSpec {
  return {
    fault: `slow link: +${latencyMs} ms per packet each way (proxy)`,
    expected,
    run: async (ctx) => {
      const proxy = await faultProxy(serverPort);
      ctx.defer(() => proxy.close());
      proxy.set({ latencyMs });
      const d = ctx.driver(dsnFor(proxy.port));
      const { result: first } = await timedProbe(d);
      if (expected === "down") return { observed: first.status, detectMs: first.durationMs, reason: first.reason };
      const o = await observeProbe(d);
      return { ...o, note: `first cycle ${first.status}; connect ${first.phases.connect?.ms.toFixed(0)} ms, ping ${first.phases.ping?.ms.toFixed(0)} ms, write ${first.phases.write?.ms.toFixed(0)} ms: latency reported, not hidden` };
    },
  };
}

/** a link that silently drops every byte once a session is open, then recovers */
export function stalledLinkCase(serverPort: number, dsnFor: (port: number) => string): CaseSpec {
  return {
    fault: "link stalls mid-session: the proxy drops every byte, connections stay open",
    expected: "down, then up",
    run: async (ctx) => {
      const proxy = await faultProxy(serverPort);
      ctx.defer(() => proxy.close());
      const d = ctx.driver(dsnFor(proxy.port));
      const healthy = await d.probe();
      proxy.set({ drop: true });
      const stalled = await timedProbe(d);
      proxy.set({});
      const back = await probeUntil(d, "up", 10_000);
      return {
        observed: `${stalled.result.status}, then ${back.result.status}`,
        detectMs: stalled.ms,
        reason: stalled.result.reason,
        note: `${healthy.status} before the stall; up ${back.ms.toFixed(0)} ms after the link recovered, on a new connection (${proxy.openConnections()} open through the proxy)`,
      };
    },
  };
}

/** a session elsewhere holds a lock on the health table: degraded within the deadlines, up once it is released */
export function lockedTableCase(opts: { how: string; dsn: string; lock: () => Promise<() => Promise<unknown>>; note: (r: ProbeResult) => string }): CaseSpec {
  return {
    fault: `health table locked by another session (${opts.how})`,
    expected: "degraded",
    run: async (ctx) => {
      const d = ctx.driver(opts.dsn);
      await d.probe(); // the table exists
      const unlock = await opts.lock();
      let released: Promise<unknown> | undefined;
      const release = (): Promise<unknown> => (released ??= unlock());
      ctx.defer(() => release().catch(() => undefined));
      const o = await observeProbe(d, opts.note);
      await release();
      const after = await d.probe();
      return { ...o, note: `${o.note}; ${after.status} once released` };
    },
  };
}

export interface KillHooks {
  how: string;
  dsn: string;
  /** holds a lock that makes the probe's write wait; returns its release */
  lock(): Promise<() => Promise<unknown>>;
  /** resolves once the probe's write waits on that lock */
  writeWaiting(): Promise<unknown>;
  kill(): Promise<void>;
  start(): Promise<void>;
}

/** the server killed while a cycle waits in its write, then restarted under the same driver */
export function killedMidCycleCase(hooks: KillHooks): CaseSpec {
  return {
    fault: `server killed (${hooks.how}) while a cycle waits in the write, then restarted`,
    expected: "degraded, then down, then up",
    run: async (ctx) => {
      const d = ctx.driver(hooks.dsn, { writeTimeout: 20_000 });
      await d.probe();
      const release = await hooks.lock();
      ctx.defer(() => release().catch(() => undefined));
      const inFlight = d.probe();
      await hooks.writeWaiting();
      const killedAt = performance.now();
      await hooks.kill();
      const mid = await inFlight;
      const midMs = performance.now() - killedAt;
      const down = await probeUntil(d, "down", 5_000);
      const downMs = performance.now() - killedAt;
      const restartedAt = performance.now();
      await hooks.start();
      const up = await probeUntil(d, "up", 20_000);
      return {
        // The cycle after the kill must try a new connection, not fail on the dead one.
        observed: `${mid.status}, then ${down.result.status}${down.result.reason?.startsWith("connect failed") ? "" : " (on the dead connection)"}, then ${up.result.status}`,
        detectMs: midMs,
        reason: mid.reason,
        note: `the cycle in flight ended ${midMs.toFixed(0)} ms after the kill; down reported ${downMs.toFixed(0)} ms after it (${down.result.reason}); up ${(performance.now() - restartedAt).toFixed(0)} ms after the restart began, same driver`,
      };
    },
  };
}
