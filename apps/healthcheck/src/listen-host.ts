/**
 * The daemon's listen address at bind time: a host name is looked up before anything binds or
 * starts (so that the lookup, which can take seconds, can be interrupted like the rest of
 * start-up), and every way binding can fail is one line naming the source of the address.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { errorMessage } from "@alfred/db-health-core";
import type { ListenAddress } from "./args.js";

// What getaddrinfo says for a name that does not resolve (Node maps EAI_NONAME/EAI_NODATA to
// ENOTFOUND), or when no DNS server answers.
const NOT_FOUND = new Set(["ENOTFOUND", "EAI_NONAME", "EAI_NODATA", "ENODATA", "EAI_AGAIN", "EAI_FAIL"]);
const CANNOT_BIND = new Set(["EADDRINUSE", "EACCES", "EADDRNOTAVAIL"]);

/**
 * Looks up a listen host that is a name (an IP address or every interface needs no lookup).
 *
 * @throws the lookup's error (`ENOTFOUND`, `EAI_AGAIN`…), which {@link listenFailure} describes.
 * @example
 * ```ts
 * await lookupListenHost({ host: "metrics.internal", port: 9091 });
 * ```
 */
export async function lookupListenHost(listen: ListenAddress): Promise<void> {
  if (listen.host !== undefined && isIP(listen.host) === 0) await lookup(listen.host);
}

/**
 * The one line for an error that keeps the daemon from listening, or `undefined` when `err` is
 * not one. `from` names the source of the address: `--export-prom`, `DB_HEALTH_LISTEN`, the YAML key.
 *
 * @example
 * ```ts
 * listenFailure(Object.assign(new Error("getaddrinfo ENOTFOUND db.invalid"), { code: "ENOTFOUND" }), { host: "db.invalid", port: 9091 }, "--export-prom");
 * // "cannot listen for --export-prom db.invalid:9091: host not found"
 * ```
 */
export function listenFailure(err: unknown, listen: ListenAddress, from: string): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined) return undefined;
  if (NOT_FOUND.has(code)) {
    const host = listen.host?.includes(":") ? `[${listen.host}]` : (listen.host ?? "");
    const why = code === "EAI_AGAIN" ? "host not found (no answer from the DNS server, EAI_AGAIN)" : "host not found";
    return `cannot listen for ${from} ${host}:${listen.port}: ${why}`;
  }
  if (CANNOT_BIND.has(code)) return `cannot listen for ${from}: ${errorMessage(err)}`;
  if (code === "EINVAL") {
    const host = listen.host?.includes(":") ? `[${listen.host}]` : (listen.host ?? "");
    const hint = /^fe[89ab]/i.test(listen.host ?? "") ? ": a link-local IPv6 address needs its interface, e.g. [fe80::1%eth0]" : "";
    return `cannot listen for ${from} ${host}:${listen.port}: the system refuses this address (EINVAL)${hint}`;
  }
  return undefined;
}
