import { describe, expect, it } from "vitest";
import { checkTargetConfigs, formatProblems } from "./check.js";
import { resolveTargetConfig, resolveTargetConfigs, targetOptionsSchema } from "./config.js";
import { MAX_CHECKS } from "./checks-schema.js";
import { isDbHealthError } from "../contract/errors.js";

const PG = "postgres://app@db.internal:5432/app";
const ok = { name: "backlog", query: "SELECT count(*) FROM jobs" };

/** Every problem line of a configuration of the given targets. */
function lines(targets: unknown[]): string[] {
  try {
    resolveTargetConfigs(targets);
  } catch (err) {
    expect(isDbHealthError(err)).toBe(true);
    return (err as Error).message.split("\n");
  }
  throw new Error("expected a config error");
}
const one = (checks: unknown): string[] => lines([{ dsn: PG, checks }]);

describe("checks: configuration", () => {
  it("defaults to no checks, and a check's timeout to the target's readTimeout", () => {
    expect(resolveTargetConfig({ dsn: PG }).checks).toEqual([]);
    const c = resolveTargetConfig({ dsn: PG, readTimeout: "3s", checks: [ok, { name: "q", query: "SELECT 1", min: -1.5, max: 2, timeout: "250ms" }] });
    expect(c.checks).toEqual([
      { ...ok, timeout: 3000 },
      { name: "q", query: "SELECT 1", min: -1.5, max: 2, timeout: 250 },
    ]);
  });

  it("takes a resolved configuration back as it is (createDriver given a TargetConfig)", () => {
    const c = resolveTargetConfig({ dsn: PG, checks: [{ ...ok, max: 5 }] });
    expect(resolveTargetConfig(c).checks).toEqual(c.checks);
  });

  it("names the check's path in every message", () => {
    expect(one([ok, { name: "x", query: "SELECT 1", min: 5, max: 1 }])).toEqual([
      "targets[0].checks[1].max: 1 is less than min (5): no value could pass; swap them or fix one",
    ]);
  });

  it.each([
    ["Backlog", '"Backlog" is not a valid check name: use 1–63 lowercase letters, digits or "_", starting with a letter'],
    ["1st", '"1st" is not a valid check name: use 1–63 lowercase letters, digits or "_", starting with a letter'],
    ["a-b", '"a-b" is not a valid check name: use 1–63 lowercase letters, digits or "_", starting with a letter'],
    ["", '"" is not a valid check name: use 1–63 lowercase letters, digits or "_", starting with a letter'],
    ["a".repeat(64), `"${"a".repeat(40)}…" is not a valid check name: use 1–63 lowercase letters, digits or "_", starting with a letter`],
    [5, 'must be a name: use 1–63 lowercase letters, digits or "_", starting with a letter, got 5'],
  ])("refuses the name %j", (name, message) => {
    expect(one([{ ...ok, name }])).toEqual([`targets[0].checks[0].name: ${message}`]);
  });

  it("accepts names of 63 characters of a-z, 0-9 and _", () => {
    expect(resolveTargetConfig({ dsn: PG, checks: [{ ...ok, name: `q_${"9".repeat(61)}` }] }).checks[0]?.name).toHaveLength(63);
  });

  it("requires a name and a query", () => {
    expect(one([{}])).toEqual([
      'targets[0].checks[0].name: is required (a name: use 1–63 lowercase letters, digits or "_", starting with a letter)',
      "targets[0].checks[0].query: is required (one SQL statement whose first column is a number)",
    ]);
  });

  it("refuses names used twice in one target, but not in two targets", () => {
    expect(one([ok, { ...ok, query: "SELECT 2" }, { name: "other", query: "SELECT 3" }])).toEqual([
      'targets[0].checks[1].name: "backlog" is already the name of checks[0]; give each check its own name',
    ]);
    expect(resolveTargetConfigs([{ dsn: PG, checks: [ok] }, { dsn: PG, checks: [ok] }])).toHaveLength(2);
  });

  it("reports a duplicate name even when another check has a problem of its own", () => {
    expect(one([ok, { ...ok, min: "0" }])).toEqual([
      'targets[0].checks[1].min: must be a finite number, got "0"',
      'targets[0].checks[1].name: "backlog" is already the name of checks[0]; give each check its own name',
    ]);
  });

  it("refuses an empty, blank or overlong query, or one that is no string", () => {
    const empty = "must not be empty: give one SQL statement whose first column is a number, e.g. SELECT count(*) FROM jobs";
    expect(one([{ ...ok, query: "" }])).toEqual([`targets[0].checks[0].query: ${empty}`]);
    expect(one([{ ...ok, query: " \n\t" }])).toEqual([`targets[0].checks[0].query: ${empty}`]);
    expect(one([{ ...ok, query: `SELECT ${"1".repeat(10_000)}` }])).toEqual([
      "targets[0].checks[0].query: must be at most 10,000 characters, got 10,007: a check is one statement",
    ]);
    expect(one([{ ...ok, query: ["SELECT 1"] }])).toEqual(["targets[0].checks[0].query: must be one SQL statement whose first column is a number, got a list"]);
  });

  it("refuses bounds that are no finite number", () => {
    expect(one([{ ...ok, max: "1000" }])).toEqual(['targets[0].checks[0].max: must be a finite number, got "1000"']);
    expect(one([{ ...ok, min: Number.NaN }])[0]).toMatch(/^targets\[0\]\.checks\[0\]\.min: must be a finite number, got NaN$/);
    expect(one([{ ...ok, max: Number.POSITIVE_INFINITY }])[0]).toMatch(/^targets\[0\]\.checks\[0\]\.max: must be a finite number, got Infinity$/);
    expect(resolveTargetConfig({ dsn: PG, checks: [{ ...ok, min: 3, max: 3 }] }).checks[0]).toMatchObject({ min: 3, max: 3 });
  });

  it("bounds a check's timeout as every timeout", () => {
    expect(one([{ ...ok, timeout: "0s" }])).toEqual(["targets[0].checks[0].timeout: must be more than 0s and at most 10m, got 0s"]);
    expect(one([{ ...ok, timeout: "11m" }])).toEqual(["targets[0].checks[0].timeout: must be more than 0s and at most 10m, got 11m"]);
    expect(one([{ ...ok, timeout: "soon" }])[0]).toMatch(/^targets\[0\]\.checks\[0\]\.timeout: invalid duration "soon"/);
  });

  it(`holds at most ${MAX_CHECKS} checks`, () => {
    const checks = Array.from({ length: MAX_CHECKS + 1 }, (_, i) => ({ name: `c${i}`, query: "SELECT 1" }));
    expect(one(checks)).toEqual([`targets[0].checks: must hold at most ${MAX_CHECKS} checks, got ${MAX_CHECKS + 1}: each runs in every cycle`]);
    expect(resolveTargetConfig({ dsn: PG, checks: checks.slice(0, MAX_CHECKS) }).checks).toHaveLength(MAX_CHECKS);
  });

  it("refuses a list that is none, an entry that is no object, and unknown keys with a suggestion", () => {
    expect(one({ name: "x" })).toEqual([
      'targets[0].checks: must be a list of checks, each like { name: backlog, query: "SELECT count(*) FROM jobs", max: 1000 }, got an object',
    ]);
    expect(one(["SELECT 1"])).toEqual([
      'targets[0].checks[0]: must be an object like { name: backlog, query: "SELECT count(*) FROM jobs", max: 1000 }, got "SELECT 1"',
    ]);
    expect(one([{ ...ok, timout: "1s", colour: 1 }])).toEqual([
      'targets[0].checks[0].timout: unknown option; did you mean "timeout"?',
      "targets[0].checks[0].colour: unknown option (known: name, query, min, max, timeout)",
    ]);
  });

  it("gives problems as data with the path into the list", () => {
    const check = checkTargetConfigs([{ dsn: PG, checks: [ok, { ...ok, name: "y", max: "x" }] }]);
    expect(check.problems).toEqual([{ path: [0, "checks", 1, "max"], message: 'must be a finite number, got "x"' }]);
    expect(formatProblems(check.problems, { single: true })).toBe('checks[1].max: must be a finite number, got "x"');
  });

  it("hides the DSN's password pasted into a query", () => {
    const password = "Hunter2SecretPw";
    const message = lines([{ dsn: `postgres://u:${password}@h/db`, checks: [{ name: password, query: "SELECT 1" }] }]).join("\n");
    expect(message).not.toContain(password);
  });

  it("is part of targetOptionsSchema", () => {
    const r = targetOptionsSchema.safeParse({ dsn: PG, checks: [{ ...ok, min: 2, max: 1 }] });
    expect(r.error?.issues.map((i) => i.path)).toEqual([["checks", 0, "max"]]);
  });
});
