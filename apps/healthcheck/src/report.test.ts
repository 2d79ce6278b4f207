import type { ProbeResult } from "@alfred/db-health-core";
import { describe, expect, it } from "vitest";
import { checkFields, formatText } from "./report.js";

const result = (over: Partial<ProbeResult> = {}): ProbeResult => ({
  target: "app",
  driver: "sqlite",
  endpoint: "sqlite:/data/app.db",
  status: "up",
  role: "primary",
  readOnly: false,
  problems: [],
  phases: { connect: { ok: true, ms: 1.5 }, ping: { ok: true, ms: 0.25 }, write: { ok: true, ms: 0.5 }, read: { ok: true, ms: 0.125 } },
  attempts: 1,
  startedAt: 0,
  durationMs: 3,
  ...over,
});

describe("formatText", () => {
  it("adds a table of the custom checks when a target ran any", () => {
    const r = result({
      status: "degraded",
      reason: "check backlog: 1500 > max 1000",
      checks: [
        { name: "backlog", ok: false, value: 1500, ms: 1.25, error: "1500 > max 1000" },
        { name: "lag", ok: true, value: 0.5, ms: 12.5 },
        { name: "purge", ok: false, ms: 0.25, error: "check refused: the statement writes" },
      ],
    });
    expect(formatText([r, result({ target: "other" })])).toBe(
      [
        "TARGET  ENGINE  ROLE     STATUS    CONNECT  PING  WRITE  READ  REASON",
        "app     sqlite  primary  DEGRADED  1.50     0.25  0.50   0.13  check backlog: 1500 > max 1000",
        "other   sqlite  primary  UP        1.50     0.25  0.50   0.13",
        "latencies in ms; ! = phase failed",
        "",
        "TARGET  CHECK    OK    VALUE  MS    REASON",
        "app     backlog  FAIL  1500   1.25  1500 > max 1000",
        "app     lag      ok    0.5    12.5",
        "app     purge    FAIL  -      0.25  check refused: the statement writes",
        "",
      ].join("\n"),
    );
  });

  it("is the phase table alone without checks", () => {
    expect(formatText([result()]).trimEnd().split("\n").at(-1)).toBe("latencies in ms; ! = phase failed");
  });
});

describe("checkFields", () => {
  it("gives each check's name, ok, value and reason for the logs, nothing without checks", () => {
    expect(checkFields(result({ checks: [{ name: "a", ok: true, value: 1, ms: 1 }, { name: "b", ok: false, ms: 1, error: "query returned no row" }] }))).toEqual({
      checks: [
        { name: "a", ok: true, value: 1 },
        { name: "b", ok: false, reason: "query returned no row" },
      ],
    });
    expect(checkFields(result())).toEqual({});
  });
});
