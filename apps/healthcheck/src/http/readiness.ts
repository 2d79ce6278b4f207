/** What `/readyz` and `/health` agree "ready" means. */
import type { ProbeResult } from "@alfred/db-health-core";

/** Inputs of {@link readiness}: a subset of `HttpState`. */
export interface ReadinessInput {
  targets: readonly string[];
  results(): ReadonlyMap<string, ProbeResult>;
  ready?(): { ok: boolean; reason?: string };
}

/**
 * Ready when every target's last cycle was `up` and the extra condition (wrapper mode: the
 * child accepts TCP) holds. `degraded` is not ready: a node that refuses writes should not
 * receive traffic that writes. Reasons are one line per failing item, already redacted by core.
 *
 * @example
 * ```ts
 * const { ok, reasons } = readiness(state);
 * res.writeHead(ok ? 200 : 503).end(ok ? "ready\n" : reasons.join("\n"));
 * ```
 */
export function readiness(input: ReadinessInput): { ok: boolean; reasons: string[] } {
  const results = input.results();
  const reasons: string[] = [];
  for (const target of input.targets) {
    const r = results.get(target);
    if (!r) reasons.push(`${target}: no probe cycle has finished yet`);
    else if (r.status !== "up") reasons.push(`${target}: ${r.status}${r.reason ? `: ${r.reason}` : ""}`);
  }
  const extra = input.ready?.();
  if (extra && !extra.ok) reasons.push(extra.reason ?? "not ready");
  return { ok: reasons.length === 0, reasons };
}
