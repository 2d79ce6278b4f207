import { describe, expect, it } from "vitest";
import { parseDsn } from "@alfred/db-health-core";
import { parseCidr, type Cidr } from "./cidr.js";
import { moduleDsn, type DiscoveryModule } from "./module.js";
import { parseTargetAddress, type TargetAddress } from "./target-address.js";

const allow = { cidrs: [parseCidr("10.0.0.0/8") as Cidr], hosts: [], ports: [[5432, 5432]] as Array<[number, number]>, databases: ["*"] };
const pg: DiscoveryModule = { name: "pg", engine: "postgres", user: "db health", password: `p@ss:w/rd?#&%"'`, database: "app", params: { sslmode: "verify-full" }, allow, settings: {} };

describe("moduleDsn", () => {
  it("builds the DSN from the module's credentials and parameters and the target's address, which parse back exactly", () => {
    const dsn = moduleDsn(pg, parseTargetAddress("[fd00::1]:5432/orders") as TargetAddress);
    expect(parseDsn(dsn)).toMatchObject({ scheme: "postgres", user: "db health", password: pg.password, host: "fd00::1", port: 5432, database: "orders", params: { sslmode: "verify-full" } });
    // no database in the target: the module's
    expect(parseDsn(moduleDsn(pg, parseTargetAddress("10.0.0.5:5432") as TargetAddress)).database).toBe("app");
    const maria: DiscoveryModule = { name: "m", engine: "mariadb", user: "root", params: {}, allow, settings: {} };
    expect(moduleDsn(maria, parseTargetAddress("10.0.0.5:3306/test") as TargetAddress)).toBe("mariadb://root@10.0.0.5:3306/test");
  });
});
