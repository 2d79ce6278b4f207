import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { SQL } from "./sql.js";

// No SQL Server runs here, so the statements are checked against a T-SQL grammar instead:
// node-sql-parser in transactsql mode, statement by statement, as the driver sends them.
const { Parser } = createRequire(import.meta.url)("node-sql-parser") as typeof import("node-sql-parser");
const parser = new Parser();
const t = "[dbo].[_health_check]";
const statements: Record<string, string> = {
  ping: SQL.ping,
  tableExists: SQL.tableExists,
  create: SQL.create(t),
  "write batch": `${SQL.lockTimeout(1600)};\n${SQL.write(t)}`,
  prune: SQL.prune(t),
  read: SQL.read(t),
  updateability: SQL.updateability,
  agRole: SQL.agRole,
  heartbeatLag: SQL.heartbeatLag(t),
  connections: SQL.connections,
  connectionLimit: SQL.connectionLimit,
};

describe("T-SQL the driver sends", () => {
  for (const [name, sql] of Object.entries(statements)) {
    it(`${name} parses as T-SQL`, () => {
      expect(() => parser.astify(sql, { database: "transactsql" })).not.toThrow();
    });
  }

  it("writes with SET LOCK_TIMEOUT, then update-then-insert, in one batch", () => {
    const ast = parser.astify(statements["write batch"]!, { database: "transactsql" });
    expect((Array.isArray(ast) ? ast : [ast]).map((s) => s.type)).toEqual(["set", "update", "insert"]);
  });

  it("binds every value as a parameter: the statements that carry values have no literals", () => {
    for (const sql of [SQL.write(t), SQL.read(t), SQL.prune(t)]) {
      expect(sql).toMatch(/@probe_id/);
      expect(sql).not.toMatch(/'/);
    }
  });

  it("rejects what is not T-SQL (the check can fail)", () => {
    expect(() => parser.astify("UPDATE SET WHERE", { database: "transactsql" })).toThrow();
  });
});
