import { describe, expect, it } from "vitest";
import { normalizeHostName, normalizeIp, parseTargetAddress } from "./target-address.js";

describe("parseTargetAddress", () => {
  it("reads HOST:PORT[/DB] for IPv4, IPv6 in brackets and names, normalised", () => {
    expect(parseTargetAddress("10.0.0.5:5432/orders")).toEqual({ kind: "ipv4", host: "10.0.0.5", port: 5432, database: "orders", label: "10.0.0.5:5432/orders" });
    expect(parseTargetAddress("[FD00:0:0::1]:3306")).toEqual({ kind: "ipv6", host: "fd00::1", port: 3306, label: "[fd00::1]:3306" });
    expect(parseTargetAddress("Orders-DB.Prod.:5432")).toEqual({ kind: "name", host: "orders-db.prod", port: 5432, label: "orders-db.prod:5432" });
    // an IPv4-mapped IPv6 address reaches the IPv4 host, and is checked as that host
    expect(parseTargetAddress("[::ffff:10.0.0.1]:5432")).toMatchObject({ kind: "ipv4", host: "10.0.0.1", label: "10.0.0.1:5432" });
  });

  it("refuses anything else without echoing it: DSNs, userinfo, queries, spellings resolvers read as addresses", () => {
    const refused = [
      "postgres://u:s3cret@db:5432/x",
      "u:s3cret@db:5432",
      "db:5432/x?sslmode=disable",
      "db:5432/x/y",
      "db",
      "db:",
      "db:0",
      "db:65536",
      "db:5432/",
      "[fe80::1%eth0]:5432",
      "[10.0.0.1]:5432",
      "127.1:5432",
      "010.0.0.1:5432",
      "0x7f000001:5432",
      "2130706433:5432",
      "0.0.0.0:5432",
      "[::]:5432",
      "224.0.0.1:5432",
      "255.255.255.255:5432",
      "[ff02::1]:5432",
      "db_1:5432",
      "-db:5432",
      `${"a".repeat(64)}:5432`,
      `${"a.".repeat(200)}b:5432`,
      "db:5432/a b",
      "db:5432/ünï",
    ];
    for (const text of refused) {
      const r = parseTargetAddress(text);
      expect(r, text).toHaveProperty("problem");
      expect((r as { problem: string }).problem).not.toContain("s3cret");
    }
  });
});

describe("normalizeHostName and normalizeIp", () => {
  it("keep names and addresses apart", () => {
    expect(normalizeHostName("localhost")).toBe("localhost");
    expect(normalizeHostName("1.2.3.4")).toBeUndefined();
    expect(normalizeHostName("0x7f.1")).toBeUndefined();
    expect(normalizeHostName("db-1.svc")).toBe("db-1.svc");
    expect(normalizeIp("::FFFF:7F00:1")).toEqual({ kind: "ipv4", host: "127.0.0.1" });
    expect(normalizeIp("db")).toBeUndefined();
  });
});
