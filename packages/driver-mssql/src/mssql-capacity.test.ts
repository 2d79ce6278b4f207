import { describe, expect, it } from "vitest";
import { MSSQL_MAX_USER_CONNECTIONS, mssqlConnectionLimit } from "./mssql-capacity.js";
import { SQL } from "./sql.js";

describe("SQL Server connection limit", () => {
  it("is @@MAX_CONNECTIONS, and 32767 (never 0) when user connections is 0", () => {
    expect(mssqlConnectionLimit(500)).toBe(500);
    expect(mssqlConnectionLimit(32_767)).toBe(32_767);
    expect(mssqlConnectionLimit(0)).toBe(MSSQL_MAX_USER_CONNECTIONS);
  });

  it("refuses an answer that is no limit", () => {
    for (const bad of [undefined, null, -1, 2.5, "many"]) expect(() => mssqlConnectionLimit(bad)).toThrow(/@@MAX_CONNECTIONS answered/);
  });

  it("is read in the connections statement, so a cycle adds no round trip for it", () => {
    expect(SQL.connections).toMatch(/COUNT\(\*\) AS n, max_connections = @@MAX_CONNECTIONS/);
  });
});
