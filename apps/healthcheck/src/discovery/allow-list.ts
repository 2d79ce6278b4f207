/**
 * What a module may reach. A discovered target is checked against it before anything else is
 * done with it: a target outside is refused (`403`) without a connection, and without a DNS
 * lookup. Host names are never resolved to be checked: a name is allowed only when `allow.hosts`
 * lists it literally, and an address only when it lies in `allow.cidrs`. So no answer of a DNS
 * server (a rebinding one included) can turn a forbidden target into an allowed one, and the
 * check and the connection cannot disagree: an allowed address is connected to as written, an
 * allowed name is the operator's, and whatever its DNS says is the operator's to trust.
 */
import { cidrList, type Cidr } from "./cidr.js";
import type { TargetAddress } from "./target-address.js";

/** A module's `allow:` block, validated. */
export interface AllowSpec {
  /** Networks whose addresses may be targets. */
  cidrs: readonly Cidr[];
  /** Host names (lower-case, exact) that may be targets. */
  hosts: readonly string[];
  /** Port ranges, inclusive. */
  ports: ReadonlyArray<readonly [number, number]>;
  /** Databases a target may name; `"*"` any. Without it: only the module's `database`. */
  databases: readonly string[];
}

/** Why a target is refused. */
export type AllowRefusal = { reason: "address" | "host" | "port" | "database"; message: string };

/**
 * Compiles an allow list into its check.
 *
 * @example
 * ```ts
 * const check = compileAllow({ cidrs: [parseCidr("10.0.0.0/8") as Cidr], hosts: [], ports: [[5432, 5432]], databases: ["app"] });
 * check(parseTargetAddress("10.0.0.5:5432/app") as TargetAddress);  // undefined: allowed
 * check(parseTargetAddress("10.0.0.5:5433/app") as TargetAddress);  // { reason: "port", … }
 * ```
 */
export function compileAllow(spec: AllowSpec): (target: TargetAddress) => AllowRefusal | undefined {
  const networks = cidrList(spec.cidrs);
  const hosts = new Set(spec.hosts);
  const anyDatabase = spec.databases.includes("*");
  const databases = new Set(spec.databases);
  return (target) => {
    if (target.kind === "name" ? !hosts.has(target.host) : !networks.check(target.host, target.kind)) {
      return target.kind === "name"
        ? { reason: "host", message: `host name "${target.host}" is not listed in allow.hosts (names are never resolved to be checked against allow.cidrs)` }
        : { reason: "address", message: `address ${target.kind === "ipv6" ? `[${target.host}]` : target.host} is in none of allow.cidrs` };
    }
    if (!spec.ports.some(([lo, hi]) => target.port >= lo && target.port <= hi)) return { reason: "port", message: `port ${target.port} is not in allow.ports` };
    if (target.database !== undefined && !anyDatabase && !databases.has(target.database)) {
      return { reason: "database", message: `database "${target.database}" is not in allow.databases` };
    }
    return undefined;
  };
}
