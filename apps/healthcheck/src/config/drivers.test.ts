import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isDbHealthError } from "@alfred/db-health-core";
import { resolveCli } from "./resolve.js";

const resolve = (argv: string[]) => resolveCli(argv, {}, "1", { writeOut: () => undefined });
const errorOf = async (argv: string[]): Promise<string> => {
  try {
    await resolve(argv);
  } catch (err) {
    if (isDbHealthError(err)) return err.message;
    throw err;
  }
  throw new Error("expected a config error");
};

describe("driver checks (drivers installed here: sqlite, postgres, mysql; not mssql)", () => {
  it("lists what the drivers reject and what is not installed with every other problem", async () => {
    const message = await errorOf(["--dsn", "file:a.db?mode=rwx", "--dsn", "file:b.db?bogus=1", "--dsn", "sqlserver://sa:Sup3rS3cret!@127.0.0.1:1433/master", "--interval", "5x"]);
    const lines = message.split("\n");
    expect(lines).toHaveLength(4);
    expect(lines.some((l) => l.startsWith('--dsn #3: no driver for "sqlserver://sa@127.0.0.1:1433/master"'))).toBe(true);
    expect(lines.some((l) => l.startsWith("--dsn #1: ") && l.includes("mode=rwx"))).toBe(true);
    expect(lines.some((l) => l.startsWith("--dsn #2: ") && l.includes("bogus"))).toBe(true);
    expect(lines).toContain('--interval: invalid duration "5x": use a number with a unit, e.g. 500ms, 2s, 1m');
    expect(message).not.toContain("Sup3rS3cret");
  });

  it("accepts DSNs whose driver is installed", async () => {
    const plan = await resolve(["--dsn", "postgres://app@127.0.0.1:5432/app", "--dsn", "mysql://root@tcp(127.0.0.1:3306)/test", "--dsn", ":memory:"]);
    expect(plan.targets).toHaveLength(3);
  });

  it("imports plugins given as paths, and names a scheme no driver serves", async () => {
    const plugin = fileURLToPath(new URL("../__fixtures__/hang-driver.mjs", import.meta.url));
    expect((await resolve(["--plugin", plugin, "--dsn", "hang://db/x"])).plugins).toEqual([plugin]);
    expect(await errorOf(["--dsn", "nosuch://db/x"])).toBe('--dsn: no driver for "nosuch://db/x": scheme "nosuch" is not built in; name a plugin package with --plugin');
  });
});

describe("redaction does not swallow a DSN without a password", () => {
  it("shows a DB_HEALTH_DSN or dsnFile DSN in a driver message", async () => {
    const message = await resolveCli([], { DB_HEALTH_DSN: "nosuch://db/x" }, "1").catch((err: Error) => err.message);
    expect(message).toBe('DB_HEALTH_DSN: no driver for "nosuch://db/x": scheme "nosuch" is not built in; name a plugin package with --plugin');
  });
});
