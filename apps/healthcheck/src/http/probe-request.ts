/**
 * The one place that turns a `/probe` request into what to probe and how long the scrape may
 * take: the configured target it names and the scrape's budget. Everything else is refused here,
 * before any database is touched.
 */
import type { IncomingHttpHeaders } from "node:http";
import { scrapeBudget, SCRAPE_TIMEOUT_HEADER, type ScrapeBudget } from "./scrape-budget.js";

/** A `/probe` request the exporter will answer. */
export interface ProbeRequest {
  /** A configured target's name. */
  target: string;
  /** The scrape's time, when Prometheus sent its timeout. */
  budget?: ScrapeBudget;
}

/** A `/probe` request refused, with its status and one line that says why. */
export interface ProbeRefusal {
  status: number;
  message: string;
}

/** What {@link readProbeRequest} checks the request against. */
export interface ProbeRequestContext {
  /** Names of every configured target. */
  targets: readonly string[];
  /** `--web.timeout-offset` in ms. */
  timeoutOffsetMs: number;
}

// Target names are 1–63 of these (core's schema); anything else is echoed only as a description.
const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/;

/**
 * Reads `?target=NAME` and the scrape's budget. Only a configured target's name: a DSN, host or
 * port in the query string would let any client point the exporter (and its credentials) at a
 * server of their choosing. A value that is not shaped like a target name is never echoed.
 *
 * @example
 * ```ts
 * const r = readProbeRequest("target=orders", req.headers, { targets: ["orders"], timeoutOffsetMs: 500 });
 * if ("status" in r) return send(res, r.status, r.message);
 * await cache.get(r.target, r.budget);
 * ```
 */
export function readProbeRequest(query: string, headers: IncomingHttpHeaders, context: ProbeRequestContext): ProbeRequest | ProbeRefusal {
  const params = new URLSearchParams(query);
  const other = [...new Set(params.keys())].filter((k) => k !== "target");
  if (other.length > 0) {
    const named = other.every((k) => TARGET_NAME.test(k)) ? other.join(", ") : "(not shown)";
    return refuse(`unknown parameter ${named}: /probe takes only ?target=NAME of a configured target; DSNs and hosts come from the configuration, never from the query string`);
  }
  const targets = params.getAll("target");
  if (targets.length > 1) {
    // Answering for one of them would be a guess: a relabelling mistake should show, not pass.
    const shown = targets.slice(0, 3).map((t) => (TARGET_NAME.test(t) ? `"${t}"` : "(not a valid target name)")).join(", ") + (targets.length > 3 ? ", …" : "");
    return refuse(`target given ${targets.length} times (${shown}): /probe takes exactly one ?target=NAME`);
  }
  const target = targets[0];
  if (target === undefined || !context.targets.includes(target)) {
    const valid = `valid targets: ${context.targets.join(", ")}`;
    if (target === undefined || target === "") return refuse(`missing ?target=NAME; ${valid}`);
    return refuse(`unknown target ${TARGET_NAME.test(target) ? `"${target}"` : "(not a valid target name)"}; ${valid}`);
  }
  const budget = scrapeBudget(headers[SCRAPE_TIMEOUT_HEADER], context.timeoutOffsetMs);
  if (budget && "problem" in budget) return refuse(budget.problem);
  return budget ? { target, budget } : { target };
}

function refuse(message: string): ProbeRefusal {
  return { status: 400, message: `${message}\n` };
}
