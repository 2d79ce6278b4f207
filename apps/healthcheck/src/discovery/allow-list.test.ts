import { describe, expect, it } from "vitest";
import { compileAllow } from "./allow-list.js";
import { parseCidr, type Cidr } from "./cidr.js";
import { parseTargetAddress, type TargetAddress } from "./target-address.js";

const cidr = (text: string): Cidr => parseCidr(text) as Cidr;
const at = (text: string): TargetAddress => parseTargetAddress(text) as TargetAddress;

describe("parseCidr", () => {
  it("reads networks and single addresses, and refuses host bits, bad prefixes and names", () => {
    expect(parseCidr("10.0.0.0/8")).toEqual({ family: "ipv4", address: "10.0.0.0", prefix: 8, text: "10.0.0.0/8" });
    expect(parseCidr("127.0.0.1")).toMatchObject({ prefix: 32, text: "127.0.0.1/32" });
    expect(parseCidr("FD00::/8")).toMatchObject({ family: "ipv6", address: "fd00::", prefix: 8 });
    expect(parseCidr("0.0.0.0/0")).toMatchObject({ prefix: 0 });
    expect(parseCidr("10.1.2.3/8")).toEqual({ problem: '"10.1.2.3/8" has bits set after the first 8: did you mean 10.0.0.0/8?' });
    expect(parseCidr("fd00::1/8")).toEqual({ problem: '"fd00::1/8" has bits set after the first 8: did you mean fd00::/8?' });
    for (const bad of ["10.0.0.0/33", "fd00::/129", "10.0.0.0/x", "db.local/24", "10.0.0.0/8/8", ""]) expect(parseCidr(bad), bad).toHaveProperty("problem");
  });
});

describe("compileAllow", () => {
  const check = compileAllow({ cidrs: [cidr("10.0.0.0/8"), cidr("fd00::/8")], hosts: ["orders-db.prod"], ports: [[5432, 5432], [6432, 6439]], databases: ["app"] });

  it("allows an address in a network, a listed name, a listed port and database", () => {
    for (const t of ["10.1.2.3:5432", "10.1.2.3:6435/app", "[fd12::1]:5432", "orders-db.prod:5432/app", "[::ffff:10.9.9.9]:5432"]) expect(check(at(t)), t).toBeUndefined();
  });

  it("refuses the rest, saying which part", () => {
    expect(check(at("11.0.0.1:5432"))?.reason).toBe("address");
    expect(check(at("[fe80::1]:5432"))?.reason).toBe("address");
    expect(check(at("[::ffff:11.0.0.1]:5432"))?.reason).toBe("address");
    // a name is never resolved: unlisted means refused, whatever it would resolve to
    expect(check(at("other-db.prod:5432"))).toEqual({ reason: "host", message: 'host name "other-db.prod" is not listed in allow.hosts (names are never resolved to be checked against allow.cidrs)' });
    expect(check(at("10.1.2.3:5433"))?.reason).toBe("port");
    expect(check(at("10.1.2.3:5432/postgres"))?.reason).toBe("database");
  });

  it('"*" allows any database', () => {
    const any = compileAllow({ cidrs: [cidr("10.0.0.0/8")], hosts: [], ports: [[5432, 5432]], databases: ["*"] });
    expect(any(at("10.1.2.3:5432/whatever"))).toBeUndefined();
  });
});
