/**
 * The `target` of a discovered `/probe?module=…&target=HOST:PORT[/DB]`, read strictly: an IPv4
 * address in dotted-quad form, an IPv6 address in brackets or a DNS name, a port, and an optional
 * database name. Nothing else gets through: no user, password, query, path or second address can
 * ride along into the DSN built from it, and no spelling the resolver would read as an address
 * (`127.1`, `0x7f000001`, `2130706433`) passes for a name.
 */
import { isIPv4, isIPv6 } from "node:net";

/** A parsed, normalised discovered target. */
export interface TargetAddress {
  kind: "ipv4" | "ipv6" | "name";
  /** IPv4 dotted quad; IPv6 lower-case and compressed, without brackets (an IPv4-mapped one as IPv4); a name lower-case without a trailing dot. */
  host: string;
  port: number;
  /** The database the target names, if it names one. */
  database?: string;
  /** `HOST:PORT[/DB]` as normalised (IPv6 in brackets): the `target` label of its series. */
  label: string;
}

/** Longest `target` value read: a 253-character name, a port and a 63-character database fit. */
export const MAX_TARGET_LENGTH = 330;

// 1–63 characters a database name may have here: enough for real names, nothing a DSN parses.
const DATABASE = /^[A-Za-z0-9_][A-Za-z0-9_.$-]{0,62}$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// Labels inet_aton() reads as numbers (decimal, octal, hex): a name made only of them is an address.
const NUMERIC_LABEL = /^(?:0x[0-9a-f]*|[0-9]+)$/;

/**
 * Reads a DNS name as `allow.hosts` and targets must write it: 1–253 characters, labels of
 * letters, digits and inner hyphens; not a spelling of an address. Lower-cased, trailing dot
 * dropped.
 *
 * @example
 * ```ts
 * normalizeHostName("Orders-DB.prod."); // "orders-db.prod"
 * normalizeHostName("127.1");           // undefined: the resolver reads it as 127.0.0.1
 * ```
 */
export function normalizeHostName(text: string): string | undefined {
  const name = text.toLowerCase().replace(/\.$/, "");
  if (name.length === 0 || name.length > 253) return undefined;
  const labels = name.split(".");
  if (!labels.every((l) => LABEL.test(l))) return undefined;
  if (labels.every((l) => NUMERIC_LABEL.test(l))) return undefined;
  return name;
}

/**
 * An IP address as it is compared and connected to: IPv4 as is, IPv6 compressed and lower-case,
 * an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) as the IPv4 address it reaches.
 *
 * @example
 * ```ts
 * normalizeIp("FD00:0::1");          // { kind: "ipv6", host: "fd00::1" }
 * normalizeIp("::ffff:10.0.0.1");    // { kind: "ipv4", host: "10.0.0.1" }
 * ```
 */
export function normalizeIp(text: string): { kind: "ipv4" | "ipv6"; host: string } | undefined {
  if (isIPv4(text)) return { kind: "ipv4", host: text };
  if (!isIPv6(text) || text.includes("%")) return undefined;
  const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped) {
    const n = (parseInt(mapped[1]!, 16) << 16) | parseInt(mapped[2]!, 16);
    return { kind: "ipv4", host: [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".") };
  }
  return { kind: "ipv6", host };
}

/**
 * Parses `HOST:PORT[/DB]`. Problems say what is wrong without echoing the value (it may be a
 * DSN with a password pasted by mistake).
 *
 * @example
 * ```ts
 * parseTargetAddress("10.0.0.5:5432/orders"); // { kind: "ipv4", host: "10.0.0.5", port: 5432, database: "orders", label: "10.0.0.5:5432/orders" }
 * parseTargetAddress("[fd00::1]:3306");       // { kind: "ipv6", host: "fd00::1", port: 3306, label: "[fd00::1]:3306" }
 * parseTargetAddress("postgres://u:pw@db/x"); // { problem: "…" }
 * ```
 */
export function parseTargetAddress(text: string): TargetAddress | { problem: string } {
  const shape = "target must be HOST:PORT or HOST:PORT/DB (an IPv4 address, an IPv6 address in brackets or a DNS name; a port; a database name)";
  if (text.length > MAX_TARGET_LENGTH) return { problem: `target is longer than ${MAX_TARGET_LENGTH} characters: ${shape}` };
  const m = /^(\[[^\]]*\]|[^:/[\]]*):(\d{1,5})(?:\/(.*))?$/.exec(text);
  if (!m) return { problem: shape };
  const [, rawHost, rawPort, database] = m as unknown as [string, string, string, string | undefined];
  const port = Number(rawPort);
  if (port < 1 || port > 65535) return { problem: `target port must be 1 to 65535: ${shape}` };
  if (database !== undefined && !DATABASE.test(database)) return { problem: "target database must be 1-63 letters, digits, _ . $ or -, starting with a letter, digit or _" };
  let kind: TargetAddress["kind"];
  let host: string;
  if (rawHost.startsWith("[")) {
    const inner = rawHost.slice(1, -1);
    const ip = isIPv6(inner) ? normalizeIp(inner) : undefined;
    if (!ip) return { problem: "target host in brackets must be an IPv6 address (without a zone such as %eth0)" };
    ({ kind, host } = ip);
  } else if (/^[0-9.]+$/.test(rawHost)) {
    if (!isIPv4(rawHost)) return { problem: "target host looks like an IPv4 address but is not one in dotted-quad form (four numbers 0-255, no leading zeros)" };
    [kind, host] = ["ipv4", rawHost];
  } else {
    const name = normalizeHostName(rawHost);
    if (!name) return { problem: "target host must be an IP address or a DNS name (letters, digits, hyphens and dots)" };
    [kind, host] = ["name", name];
  }
  const unusable = unusableAddress(kind, host);
  if (unusable) return { problem: `target ${unusable}` };
  const label = `${kind === "ipv6" ? `[${host}]` : host}:${port}${database === undefined ? "" : `/${database}`}`;
  return database === undefined ? { kind, host, port, label } : { kind, host, port, database, label };
}

/**
 * Addresses that are never a database server's, whatever a module allows: the unspecified
 * address (connecting to 0.0.0.0 or [::] reaches this host), multicast and broadcast.
 */
function unusableAddress(kind: TargetAddress["kind"], host: string): string | undefined {
  if (kind === "ipv4") {
    const first = Number(host.split(".")[0]);
    if (host === "0.0.0.0") return "0.0.0.0 is the unspecified address (it reaches this host): name the database server's address";
    if (first >= 224) return `${host} is a multicast, broadcast or reserved address, not a database server's`;
  }
  if (kind === "ipv6") {
    if (host === "::") return "[::] is the unspecified address (it reaches this host): name the database server's address";
    if (host.startsWith("ff")) return `[${host}] is a multicast address, not a database server's`;
  }
  return undefined;
}
