/** CIDR blocks of a module's `allow.cidrs`, read strictly and matched with Node's BlockList. */
import { BlockList } from "node:net";
import { normalizeIp } from "./target-address.js";
import { quote } from "../config/problems.js";

/** One parsed block. */
export interface Cidr {
  family: "ipv4" | "ipv6";
  /** The network address, normalised. */
  address: string;
  prefix: number;
  /** As written back in messages: `10.0.0.0/8`. */
  text: string;
}

/**
 * Reads `ADDRESS/PREFIX` (or a bare address: one host). Host bits must be zero: `10.1.2.3/8`
 * most likely means `10.0.0.0/8` or `10.1.2.3/32`, and allowing the wrong one would be silent.
 *
 * @example
 * ```ts
 * parseCidr("10.0.0.0/8");  // { family: "ipv4", address: "10.0.0.0", prefix: 8, text: "10.0.0.0/8" }
 * parseCidr("10.1.2.3/8");  // { problem: '"10.1.2.3/8" has bits set after the first 8: did you mean 10.0.0.0/8?' }
 * ```
 */
export function parseCidr(text: string): Cidr | { problem: string } {
  const [addressText = "", prefixText, ...rest] = text.trim().split("/");
  const ip = normalizeIp(addressText);
  const hint = 'must be an IPv4 or IPv6 network such as 10.0.0.0/8 or fd00::/8, or one address';
  if (!ip || rest.length > 0) return { problem: `${quote(text, 60)} ${hint}` };
  const bits = ip.kind === "ipv4" ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return { problem: `${quote(text, 60)}: the prefix must be 0 to ${bits}` };
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return { problem: `${quote(text, 60)}: the prefix must be 0 to ${bits}` };
  const value = toBigInt(ip.kind, ip.host);
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  if ((value & ~mask & ((1n << BigInt(bits)) - 1n)) !== 0n) {
    const network = fromBigInt(ip.kind, value & mask);
    return { problem: `${quote(text, 60)} has bits set after the first ${prefix}: did you mean ${network}/${prefix}?` };
  }
  return { family: ip.kind, address: ip.host, prefix, text: `${ip.host}/${prefix}` };
}

/**
 * A BlockList holding `cidrs` (used as an allow list: `check()` is true inside one).
 *
 * @example
 * ```ts
 * const inside = cidrList([parseCidr("10.0.0.0/8") as Cidr]);
 * inside.check("10.1.2.3", "ipv4"); // true
 * ```
 */
export function cidrList(cidrs: readonly Cidr[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) list.addSubnet(c.address, c.prefix, c.family);
  return list;
}

function toBigInt(kind: "ipv4" | "ipv6", host: string): bigint {
  if (kind === "ipv4") return host.split(".").reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
  const [head = "", tail = ""] = host.split("::");
  const groups = (s: string): string[] => (s === "" ? [] : s.split(":"));
  const h = groups(head);
  const t = groups(tail);
  const all = host.includes("::") ? [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t] : h;
  return all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function fromBigInt(kind: "ipv4" | "ipv6", value: bigint): string {
  if (kind === "ipv4") return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return normalizeIp(groups.join(":"))!.host;
}
