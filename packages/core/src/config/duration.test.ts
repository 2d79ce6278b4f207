import { describe, expect, it } from "vitest";
import * as z from "zod";
import { durationSchema, formatDuration, parseDuration } from "./duration.js";
import { isDbHealthError } from "../contract/errors.js";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["2s", 2000],
    ["1m", 60_000],
    ["2h", 7_200_000],
    ["0ms", 0],
    ["0s", 0],
    ["0", 0],
  ])("reads each unit: %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ["1m30s", 90_000],
    ["1h2m3s4ms", 3_723_004],
    ["2s500ms", 2500],
    ["30s1m", 90_000], // any order, as Go
    ["1s1s", 2000],
  ])("adds combined parts: %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ["1.5s", 1500],
    ["0.5ms", 0.5],
    [".5s", 500],
    ["1.1s", 1100],
    ["0.1h", 360_000],
    ["1.5m", 90_000],
    ["0.000001ms", 0.000001],
  ])("reads fractions without float noise: %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it("takes numbers as milliseconds, fractions included", () => {
    expect(parseDuration(0)).toBe(0);
    expect(parseDuration(250)).toBe(250);
    expect(parseDuration(1.25)).toBe(1.25);
  });

  it("ignores surrounding whitespace (env values)", () => {
    expect(parseDuration(" 2s\n")).toBe(2000);
  });

  it.each(["", " ", "5", "-1s", "1x", "ms", "1 s", "1S", "1us", "s1", "1.2.3s", "+1s", "1e3ms", "NaN", "Infinity"])(
    "rejects %j with a helpful config error",
    (text) => {
      let caught: unknown;
      try {
        parseDuration(text);
      } catch (err) {
        caught = err;
      }
      expect(isDbHealthError(caught)).toBe(true);
      expect(caught).toMatchObject({ kind: "config" });
      expect((caught as Error).message).toBe(
        `invalid duration ${JSON.stringify(text)}: use a number with a unit, e.g. 500ms, 2s, 1m`,
      );
    },
  );

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, -0.5])("rejects the number %s", (n) => {
    expect(() => parseDuration(n)).toThrow(`invalid duration "${String(n)}"`);
  });

  it("shortens very long input in the message", () => {
    const long = "x".repeat(500);
    expect(() => parseDuration(long)).toThrow(/^invalid duration "x{40}…": use/);
  });

  it.each([
    ["postgres://u:Hunter2SecretLongPassword12345@h/db", '"postgres://u:***@h/db"'],
    ["Server=db;Password=Hunter2SecretLongPassword12345;User Id=sa", '"Server=db;Password=***;User Id=sa"'],
    ["postgres://h/db?password=Hunter2SecretLongPassword12345", '"postgres://h/db?password=***"'],
    [`${"x".repeat(30)} mysql://root:Hunter2SecretLongPassword12345@tcp(db:3306)/shop`, `"${"x".repeat(30)} mysql://r…"`],
  ])("redacts %j before shortening it", (value, shown) => {
    expect(() => parseDuration(value)).toThrow(`invalid duration ${shown}: use a number with a unit, e.g. 500ms, 2s, 1m`);
    expect(durationSchema.safeParse(value).error?.issues[0]?.message).toBe(
      `invalid duration ${shown}: use a number with a unit, e.g. 500ms, 2s, 1m`,
    );
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [1.5, "1.5ms"],
    [0.000001, "0.000001ms"],
    [500, "500ms"],
    [999, "999ms"],
    [1000, "1s"],
    [1500, "1.5s"],
    [2000, "2s"],
    [60_000, "1m"],
    [90_000, "1m30s"],
    [90_500, "1m30.5s"],
    [3_600_000, "1h"],
    [3_723_004, "1h2m3.004s"],
    [7_200_000 + 1, "2h0.001s"],
    [60_300.000000000004, "1m0.3s"],
  ])("formats %s as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("never throws, even for values parseDuration refuses", () => {
    expect(formatDuration(-1500)).toBe("-1.5s");
    expect(formatDuration(Number.NaN)).toBe("NaN");
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe("Infinity");
  });

  it.each([0, 0.5, 1, 1.5, 999.999, 1000, 1234.5, 59_999, 60_000, 90_000, 3_599_999, 3_600_000, 86_400_000, 123_456_789.25])(
    "round-trips %s ms through parseDuration",
    (ms) => {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    },
  );

  it.each(["500ms", "2s", "1m30s", "1h", "1.5ms", "1h2m3.004s"])("round-trips the text %s", (text) => {
    expect(formatDuration(parseDuration(text))).toBe(text);
  });
});

describe("durationSchema", () => {
  it("outputs milliseconds for strings and numbers", () => {
    expect(durationSchema.parse("1m")).toBe(60_000);
    expect(durationSchema.parse(42)).toBe(42);
  });

  it("gives the readable message for bad strings and wrong types", () => {
    const bad = (value: unknown) => {
      const r = durationSchema.safeParse(value);
      expect(r.success).toBe(false);
      return r.error?.issues.map((i) => i.message);
    };
    expect(bad("5x")).toEqual(['invalid duration "5x": use a number with a unit, e.g. 500ms, 2s, 1m']);
    expect(bad(-3)).toEqual(['invalid duration "-3": use a number with a unit, e.g. 500ms, 2s, 1m']);
    expect(bad(true)).toEqual(['invalid duration "true": use a number with a unit, e.g. 500ms, 2s, 1m']);
  });

  it("composes inside other schemas, with refinements and defaults", () => {
    const schema = z.object({
      timeout: durationSchema.refine((ms) => ms <= 10_000, "at most 10s").default(2000),
    });
    expect(schema.parse({})).toEqual({ timeout: 2000 });
    expect(schema.parse({ timeout: "1.5s" })).toEqual({ timeout: 1500 });
    const r = schema.safeParse({ timeout: "1m" });
    expect(r.error?.issues[0]).toMatchObject({ path: ["timeout"], message: "at most 10s" });
  });
});
