/** What `/readyz` and `/health` agree "ready" means. */
import type { ProbeResult } from "@alfred/db-health-core";

/** Inputs of {@link readiness}: a subset of `HttpState`. */
export interface ReadinessInput {
  targets: readonly string[];
  results(): ReadonlyMap<string, ProbeResult>;
  ready?(): { ok: boolean; reason?: string };
  /** Aborted once the process is shutting down (a stop signal, or the wrapped child told to stop). */
  stopping?: { readonly aborted: boolean };
}

/** The reason readiness gives while the process shuts down. */
export const STOPPING = "stopping";

/**
 * Ready when the process is not stopping, every target's last cycle was `up` and the extra
 * condition (wrapper mode: the child accepts TCP) holds. `degraded` is not ready: a node that
 * refuses writes should not receive traffic that writes. Stopping is the only reason given once
 * a stop signal came, whatever the last cycles said: traffic must drain away from a process that
 * is going. Reasons are one line per failing item, already redacted by core.
 *
 * @example
 * ```ts
 * const { ok, reasons } = readiness(state);
 * res.writeHead(ok ? 200 : 503).end(ok ? "ready\n" : reasons.join("\n"));
 * ```
 */
export function readiness(input: ReadinessInput): { ok: boolean; reasons: string[] } {
  if (input.stopping?.aborted) return { ok: false, reasons: [STOPPING] };
  const results = input.results();
  const reasons: string[] = [];
  for (const target of input.targets) {
    const r = results.get(target);
    if (!r) reasons.push(`${target}: no probe cycle has finished yet`);
    else if (r.status !== "up") reasons.push(`${target}: ${r.status}${r.reason ? `: ${r.reason}` : ""}`);
  }
  const extra = serviceReadiness(input);
  if (extra && !extra.ok) reasons.push(extra.reason ?? "not ready");
  return { ok: reasons.length === 0, reasons };
}

/**
 * The service's own condition, beside the targets: `stopping` once shutdown began, else the
 * extra condition; undefined when there is neither (a daemon that is not stopping).
 *
 * @example
 * ```ts
 * const service = serviceReadiness(state); // { ok: false, reason: "stopping" } after SIGTERM
 * ```
 */
export function serviceReadiness(input: Pick<ReadinessInput, "ready" | "stopping">): { ok: boolean; reason?: string } | undefined {
  if (input.stopping?.aborted) return { ok: false, reason: STOPPING };
  return input.ready?.();
}
