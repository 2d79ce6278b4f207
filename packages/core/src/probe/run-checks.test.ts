import { describe, expect, it } from "vitest";
import { createDriver } from "./driver.js";
import { judge } from "./run-checks.js";
import { DbHealthError } from "../contract/errors.js";
import { scriptedDefinition, type Script } from "../__fixtures__/scripted-driver.js";
import type { CustomCheckOptions, TargetOptions } from "../config/types.js";

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);
const drv = (script: Script, checks: CustomCheckOptions[], over: Partial<TargetOptions> = {}) => {
  const definition = scriptedDefinition(script);
  const driver = createDriver({ dsn: "scripted://probe/x", maxRetries: 0, retryInterval: 1, checks, ...over }, { definition });
  return { driver, state: definition.state };
};
/** A check() answering from a table of query → value (a function throws or hangs). */
const answers = (table: Record<string, unknown>): Script["check"] => async (sql) => {
  const a = table[sql];
  return typeof a === "function" ? (a as () => unknown)() : a;
};

describe("custom checks in the probe cycle", () => {
  it("runs each check after the read-back and connections, in order, and stays up when all pass", async () => {
    const { driver, state } = drv({ check: answers({ q1: 3, q2: "42", q3: true, q4: 7n }) }, [
      { name: "a", query: "q1", max: 10 },
      { name: "b", query: "q2", min: 0 },
      { name: "c", query: "q3" },
      { name: "d", query: "q4", min: 7, max: 7 },
    ]);
    const r = await driver.probe();
    expect(r.status).toBe("up");
    expect(state.calls).toEqual(["connect", "ping", "role", "write", "read", "connections", "check q1", "check q2", "check q3", "check q4"]);
    expect(r.checks).toEqual([
      { name: "a", ok: true, value: 3, ms: expect.any(Number) },
      { name: "b", ok: true, value: 42, ms: expect.any(Number) },
      { name: "c", ok: true, value: 1, ms: expect.any(Number) },
      { name: "d", ok: true, value: 7, ms: expect.any(Number) },
    ]);
    expect(r.problems).toEqual([]);
  });

  it("degrades (never downs) on a value outside the bounds, naming the check, value and bound", async () => {
    const { driver } = drv({ check: answers({ q1: "1500", q2: -1, q3: 5 }) }, [
      { name: "backlog", query: "q1", max: 1000 },
      { name: "floor", query: "q2", min: 0 },
      { name: "fine", query: "q3", min: 0, max: 10 },
    ]);
    const r = await driver.probe();
    expect(r.status).toBe("degraded");
    expect(r.reason).toBe("check backlog: 1500 > max 1000");
    expect(r.problems).toEqual(["check backlog: 1500 > max 1000", "check floor: -1 < min 0"]);
    expect(r.checks).toEqual([
      { name: "backlog", ok: false, value: 1500, ms: expect.any(Number), error: "1500 > max 1000" },
      { name: "floor", ok: false, value: -1, ms: expect.any(Number), error: "-1 < min 0" },
      { name: "fine", ok: true, value: 5, ms: expect.any(Number) },
    ]);
    // A failing check is the target's health, not a failed connect or ping.
    expect(driver.metrics().db_up).toBe(1);
    expect(driver.metrics().db_connection_errors_total).toBe(0);
  });

  it("fails a check that gives no row, NULL or no number", async () => {
    const { driver } = drv({ check: answers({ none: undefined, nul: null, text: "many", nan: Number.NaN, inf: "Infinity", empty: " ", date: new Date(0) }) }, [
      { name: "none", query: "none" },
      { name: "nul", query: "nul" },
      { name: "text", query: "text" },
      { name: "nan", query: "nan" },
      { name: "inf", query: "inf" },
      { name: "empty", query: "empty" },
      { name: "date", query: "date" },
    ]);
    const r = await driver.probe();
    expect(r.status).toBe("degraded");
    expect(r.problems).toEqual([
      "check none: query returned no row",
      "check nul: query returned NULL, not a number",
      "check text: query returned a string of 4 characters, not a number",
      "check nan: query returned NaN, not a finite number",
      "check inf: query returned a string of 8 characters, not a number",
      "check empty: query returned a string of 1 character, not a number",
      "check date: query returned a date, not a number (select its epoch seconds instead)",
    ]);
    for (const c of r.checks!) {
      expect(c.ok).toBe(false);
      expect(c).not.toHaveProperty("value");
    }
  });

  it("reports every check as unsupported when the driver has no check()", async () => {
    const { driver, state } = drv({}, [
      { name: "x", query: "SELECT 1" },
      { name: "y", query: "SELECT 2" },
    ]);
    const r = await driver.probe();
    expect(r.status).toBe("degraded");
    expect(r.problems).toEqual(["check x: the scripted driver cannot run checks", "check y: the scripted driver cannot run checks"]);
    expect(r.checks).toEqual([
      { name: "x", ok: false, ms: 0, error: "the scripted driver cannot run checks" },
      { name: "y", ok: false, ms: 0, error: "the scripted driver cannot run checks" },
    ]);
    expect(state.calls.some((c) => c.startsWith("check"))).toBe(false);
  });

  it("reports the driver's error, redacted, as the check's reason", async () => {
    const password = "S3cretPassw0rd";
    const definition = scriptedDefinition({ check: async () => Promise.reject(new Error(`check refused: the statement writes (password ${password})`)) });
    const driver = createDriver({ dsn: `scripted://u:${password}@probe/x`, maxRetries: 0, checks: [{ name: "w", query: "DELETE FROM jobs" }] }, { definition });
    const r = await driver.probe();
    expect(r.status).toBe("degraded");
    expect(r.reason).toBe("check w: check refused: the statement writes (password ***)");
    expect(r.checks?.[0]).toMatchObject({ ok: false, error: "check refused: the statement writes (password ***)" });
    expect(JSON.stringify(r)).not.toContain(password);
  });

  it("ends a hung check at its own timeout: degraded, connection dropped, later checks wait, next cycle reconnects", async () => {
    let hang = true;
    const { driver, state } = drv({ check: answers({ slow: () => (hang ? never() : 1), after: 2 }) }, [
      { name: "slow", query: "slow", timeout: "100ms" },
      { name: "after", query: "after" },
    ], { readTimeout: 5000 });
    const r = await driver.probe();
    expect(r.status).toBe("degraded");
    expect(r.reason).toBe("check slow: timed out after 100ms");
    expect(r.checks).toEqual([{ name: "slow", ok: false, ms: expect.any(Number), error: "timed out after 100ms" }]);
    expect(state.destroyed).toBe(1);
    expect(state.calls).not.toContain("check after");
    hang = false;
    const r2 = await driver.probe();
    expect(r2.status).toBe("up");
    expect(r2.checks?.map((c) => c.value)).toEqual([1, 2]);
    expect(state.calls.filter((c) => c === "connect")).toHaveLength(2);
  });

  it("stops after a check the server timed out (statement timeout): the later checks wait, the connection is kept", async () => {
    // PostgreSQL and MySQL end a check at ~90 % of its deadline themselves, so the connection
    // survives: 32 slow checks must not cost 32 timeouts in one cycle.
    const serverTimeout = () => Promise.reject(new DbHealthError("timeout", "canceling statement due to statement timeout (SQLSTATE 57014)"));
    const { driver, state } = drv({ check: answers({ s1: serverTimeout, s2: serverTimeout, s3: serverTimeout }) }, [
      { name: "s1", query: "s1", timeout: "300ms" },
      { name: "s2", query: "s2", timeout: "300ms" },
      { name: "s3", query: "s3", timeout: "300ms" },
    ]);
    const r = await driver.probe();
    expect(r.status).toBe("degraded");
    expect(r.reason).toBe("check s1: canceling statement due to statement timeout (SQLSTATE 57014)");
    expect(r.checks).toEqual([{ name: "s1", ok: false, ms: expect.any(Number), error: "canceling statement due to statement timeout (SQLSTATE 57014)" }]);
    expect(state.calls.filter((c) => c.startsWith("check"))).toEqual(["check s1"]);
    expect(state.destroyed).toBe(0);
  });

  it("keeps running the later checks after one that failed without a timeout", async () => {
    const { driver, state } = drv({ check: answers({ bad: () => Promise.reject(new Error("syntax error")), good: 1 }) }, [
      { name: "bad", query: "bad" },
      { name: "good", query: "good" },
    ]);
    const r = await driver.probe();
    expect(r.checks?.map((c) => [c.name, c.ok])).toEqual([["bad", false], ["good", true]]);
    expect(state.calls).toContain("check good");
  });

  it("escapes control characters a server's error quotes from the data (no terminal escape reaches --once, logs or /health)", async () => {
    const data = "evil\x1b[31mRED\x1b[0m\x00\x07\u009b2J\tx\r";
    const { driver } = drv({ check: () => Promise.reject(new Error(`invalid input syntax for type integer: "${data}" (SQLSTATE 22P02)`)) }, [{ name: "cast", query: "q" }]);
    const r = await driver.probe();
    expect(r.reason).toBe('check cast: invalid input syntax for type integer: "evil\\x1b[31mRED\\x1b[0m\\x00\\x07\\x9b2J x\\x0d" (SQLSTATE 22P02)');
    expect(JSON.stringify(r)).not.toMatch(/\\u00(0|1|7f|[89])/i);
  });

  it("gives a check without timeout the readTimeout, and passes the deadline to the adapter", async () => {
    const seen: number[] = [];
    const { driver } = drv({ check: async (_sql, ms) => seen.push(ms) }, [
      { name: "a", query: "q" },
      { name: "b", query: "q", timeout: "300ms" },
    ], { readTimeout: 1500 });
    await driver.probe();
    expect(seen).toEqual([1500, 300]);
  });

  it("fits checks into the cycle's budget: a check cut short is degraded with the budget as the reason", async () => {
    const { driver, state } = drv({ check: answers({ hang: never, later: 1 }) }, [
      { name: "hang", query: "hang", timeout: "10s" },
      { name: "later", query: "later" },
    ], { readTimeout: 5000 });
    const r = await driver.probe(undefined, { budgetMs: 300 });
    expect(r.status).toBe("degraded");
    expect(r.reason).toBe("probe did not finish within its time budget (300ms)");
    expect(r.checks).toEqual([{ name: "hang", ok: false, ms: expect.any(Number), error: expect.stringMatching(/^timed out after \d+ms$/) }]);
    expect(r.problems).toEqual(["probe did not finish within its time budget (300ms)"]);
    expect(state.calls).not.toContain("check later");
    expect(state.destroyed).toBeGreaterThanOrEqual(1);
  });

  it("runs no check when the cycle is down, and none when none is configured", async () => {
    const down = drv({ connect: () => Promise.reject(new Error("ECONNREFUSED")), check: answers({ q: 1 }) }, [{ name: "a", query: "q" }]);
    const r = await down.driver.probe();
    expect(r.status).toBe("down");
    expect(r).not.toHaveProperty("checks");
    const none = await drv({ check: answers({}) }, []).driver.probe();
    expect(none.status).toBe("up");
    expect(none).not.toHaveProperty("checks");
  });
});

describe("judge", () => {
  const c = { min: 0, max: 10 };
  it.each([
    [5, { value: 5 }],
    ["10", { value: 10 }],
    [" 2.5 ", { value: 2.5 }],
    [false, { value: 0 }],
    [10n, { value: 10 }],
    [11, { value: 11, error: "11 > max 10" }],
    ["-0.5", { value: -0.5, error: "-0.5 < min 0" }],
    [Number.POSITIVE_INFINITY, { error: "query returned Infinity, not a finite number" }],
    [Buffer.from("1"), { error: "query returned bytes, not a number" }],
    [{ n: 1 }, { error: "query returned an object, not a number" }],
    ["1e3", { value: 1000, error: "1000 > max 10" }],
    [".5", { value: 0.5 }],
    ["0x10", { error: "query returned a string of 4 characters, not a number" }],
    ["NaN", { error: "query returned a string of 3 characters, not a number" }],
    ["hunter2-password-value", { error: "query returned a string of 22 characters, not a number" }],
  ])("judges %s", (raw, expected) => {
    expect(judge(raw, c)).toEqual(expected);
  });
});
