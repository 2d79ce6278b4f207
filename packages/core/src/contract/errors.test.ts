import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { DbHealthError, errorMessage, redactError } from "./errors.js";
import { createRedactor } from "../redact/redact.js";

const SECRET = "Tr0ub4dor&3x";

describe("DbHealthError", () => {
  it("redacts its message and keeps kind and driver", () => {
    const e = new DbHealthError("auth", `login failed for postgres://app:${SECRET}@db/x`, { driver: "postgres" });
    expect(e.message).toBe("login failed for postgres://app:***@db/x");
    expect(e.kind).toBe("auth");
    expect(e.driver).toBe("postgres");
    expect(e.name).toBe("DbHealthError");
  });

  it("keeps the client's error as cause, redacted all the way down, so printing it leaks nothing", () => {
    const inner = Object.assign(new Error(`password=${SECRET} rejected`), { code: "28P01", detail: `user app / ${SECRET}`, severity: "FATAL", port: 5432 });
    const outer = new Error(`connect to sqlserver://sa:${SECRET}@db:1433 failed`, { cause: inner });
    const agg = new AggregateError([outer, new Error(`Password=${SECRET};`)], "all addresses failed");
    const e = new DbHealthError("connect", "connect failed", { cause: agg, secrets: [SECRET] });
    const printed = inspect(e, { depth: 20 }) + JSON.stringify(e) + String(e.stack);
    expect(printed).not.toContain(SECRET);
    const cause = e.cause as AggregateError;
    expect(cause.name).toBe("AggregateError");
    const first = cause.errors[0] as Error & { cause: Error & { code: string; port: number; severity: string } };
    expect(first.cause.code).toBe("28P01");
    expect(first.cause.port).toBe(5432);
    expect(first.cause.severity).toBe("FATAL");
  });

  it("drops object fields of a client error (sockets, clients) from the copy", () => {
    const err = Object.assign(new Error("boom"), { client: { password: SECRET }, code: "ECONNRESET" });
    const copy = redactError(err, createRedactor([SECRET])) as Record<string, unknown>;
    expect(copy.client).toBeUndefined();
    expect(copy.code).toBe("ECONNRESET");
    expect(inspect(copy, { depth: 10 })).not.toContain(SECRET);
  });

  it("redacts literal secrets the generic rules cannot recognise", () => {
    const e = new DbHealthError("auth", `the server said ${SECRET}`, { secrets: [SECRET] });
    expect(e.message).toBe("the server said ***");
  });
});

describe("errorMessage", () => {
  it("folds any thrown value into one redacted line with its code", () => {
    const err = Object.assign(new Error(`first line\n  second postgres://u:${SECRET}@h/db`), { code: "ECONNREFUSED" });
    expect(errorMessage(err)).toBe("first line second postgres://u:***@h/db (ECONNREFUSED)");
    expect(errorMessage(`password=${SECRET}`)).toBe("password=***");
    expect(errorMessage({ message: `refused for postgres://u:${SECRET}@h/db`, code: 7 })).toBe("refused for postgres://u:***@h/db");
    expect(errorMessage({ nothing: "here" })).toBe("[object Object]");
  });
});
