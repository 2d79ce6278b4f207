/**
 * Small pieces of the command line that main.ts and the config resolver share. The command line
 * itself is parsed and merged with the environment and the YAML file by `resolveCli()` in
 * config/resolve.ts.
 */
import { isIPv4, isIPv6 } from "node:net";
import { DbHealthError } from "@alfred/db-health-core";
import { quote } from "./config/problems.js";

/**
 * Thrown by `resolveCli()` for `--help` / `--version`: the text was printed, exit 0.
 *
 * @example
 * ```ts
 * try { await resolveCli(argv, env, version); } catch (err) { if (err instanceof HelpShown) return 0; throw err; }
 * ```
 */
export class HelpShown extends Error {
  override readonly name = "HelpShown";
  constructor() {
    super("help or version shown");
  }
}

/** A listen address: `host` undefined means every interface. */
export interface ListenAddress {
  host: string | undefined;
  port: number;
}

/**
 * Splits `[host]:port` as the original design writes it, or says why the text is not one: not
 * of that form, a port over 65535 (0 picks a free port, for tests), or a host that can be
 * neither an IP address nor a host name (`999.1.1.1`), which would otherwise only fail when the
 * daemon binds. Whether a name resolves is only known then (see listen-host.ts).
 *
 * @example
 * ```ts
 * checkListen(":9091");           // { host: undefined, port: 9091 }
 * checkListen("[::1]:9100");      // { host: "::1", port: 9100 }
 * checkListen("999.1.1.1:9100");  // { problem: '"999.1.1.1:9100": 999.1.1.1 is not an IPv4 address (…)' }
 * ```
 */
export function checkListen(value: string): ListenAddress | { problem: string } {
  // Redacted and cut short: a DSN pasted here by mistake must not print its password.
  const shown = quote(value);
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*))?:(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) return { problem: `${shown} ${LISTEN_HINT}` };
  const host = m[1] ?? (m[2] || undefined);
  const wrongHost = host === undefined ? undefined : hostProblem(host, m[1] !== undefined);
  return wrongHost ? { problem: `${shown}: ${wrongHost}` } : { host, port };
}

/**
 * {@link checkListen} without the reason: `undefined` when the text is not a listen address.
 *
 * @example
 * ```ts
 * readListen("127.0.0.1:9091"); // { host: "127.0.0.1", port: 9091 }
 * readListen("localhost");      // undefined
 * ```
 */
export function readListen(value: string): ListenAddress | undefined {
  const listen = checkListen(value);
  return "problem" in listen ? undefined : listen;
}

/**
 * {@link checkListen} for a value that must be valid.
 *
 * @throws {DbHealthError} kind `"config"` naming `source` and what is wrong.
 * @example
 * ```ts
 * parseListen("127.0.0.1:9091"); // { host: "127.0.0.1", port: 9091 }
 * ```
 */
export function parseListen(value: string, source = "--export-prom"): ListenAddress {
  const listen = checkListen(value);
  if ("problem" in listen) throw new DbHealthError("config", `${source}: ${listen.problem}`);
  return listen;
}

// Digits and dots only read as an IPv4 address everywhere (getaddrinfo too), so they must be
// one; anything else must be a DNS name: dot-separated labels of 1-63 letters, digits, "-" (not
// at either end) and "_" (Docker service names), 253 characters at most, an optional final dot.
function hostProblem(host: string, bracketed: boolean): string | undefined {
  if (bracketed) {
    if (!isIPv6(host)) return `${JSON.stringify(host)} in brackets is not an IPv6 address`;
    // ff00::/8: a group address. A server binds to an address of its own, not a group.
    return /^ff/i.test(host) ? `[${host}] is a multicast address: no client can connect to it; listen on an address of this host, e.g. [::1] or [::]` : undefined;
  }
  if (/^[\d.]+$/.test(host)) {
    if (!isIPv4(host)) return `${host} is not an IPv4 address (four numbers from 0 to 255, e.g. 127.0.0.1)`;
    const first = Number(host.split(".")[0]);
    // 224.0.0.0/4 multicast, 240.0.0.0/4 reserved, 255.255.255.255 broadcast: binding may work,
    // but no client can ever connect, so the daemon would report "serving" to nobody.
    if (first >= 224) return `${host} is a ${first < 240 ? "multicast" : "broadcast or reserved"} address: no client can connect to it; listen on an address of this host, e.g. 127.0.0.1 or 0.0.0.0`;
    return undefined;
  }
  const label = "(?!-)[A-Za-z0-9_-]{1,63}(?<!-)";
  if (host.length <= 253 && new RegExp(`^${label}(\\.${label})*\\.?$`).test(host)) return undefined;
  return `${quote(host)} is not an IP address or a host name (letters, digits, "-" and "_" in labels separated by dots)`;
}

/** What a listen address should look like, for messages. */
export const LISTEN_HINT = "is not [host]:port, e.g. :9091 or 127.0.0.1:9091";
