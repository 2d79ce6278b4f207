import { describe, expect, it } from "vitest";
import { checkTargetConfigs, formatProblems } from "./check.js";
import { resolveTargetConfig } from "./config.js";

const PG = "postgres://app@db.internal:5432/app";

describe("cluster", () => {
  it("is absent by default and kept as given", () => {
    expect(resolveTargetConfig({ dsn: PG })).not.toHaveProperty("cluster");
    expect(resolveTargetConfig({ dsn: PG, cluster: "main" }).cluster).toBe("main");
    expect(resolveTargetConfig({ dsn: PG, cluster: "eu-west.orders:2" }).cluster).toBe("eu-west.orders:2");
  });

  it.each<[string, unknown, string]>([
    ["a space", "my cluster", '"my cluster" is not a valid cluster name: use 1–63 letters, digits, "_", ".", ":" or "-", starting with a letter or digit'],
    ["a leading dash", "-main", '"-main" is not a valid cluster name'],
    ["a quote", 'main"', "is not a valid cluster name"],
    ["64 characters", "c".repeat(64), "is not a valid cluster name"],
    ["empty", "", '"" is not a valid cluster name'],
    ["a number", 5, "must be a string, got 5"],
  ])("rejects %s, naming the path", (_label, cluster, expected) => {
    const check = checkTargetConfigs([{ dsn: PG }, { dsn: PG, name: "b", cluster }]);
    expect(check.problems).toHaveLength(1);
    expect(check.problems[0]?.path).toEqual([1, "cluster"]);
    const text = formatProblems(check.problems);
    expect(text).toMatch(/^targets\[1\]\.cluster: /);
    expect(text).toContain(expected);
  });
});
