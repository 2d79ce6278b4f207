import { describe, expect, it } from "vitest";
import { result } from "./__fixtures__/http-fixtures.js";
import { healthDocument } from "./health-json.js";

describe("healthDocument with custom checks", () => {
  it("has one entry per check under <target>:checks, warn when it failed, with its value and reason", () => {
    const r = result({
      target: "app",
      status: "degraded",
      startedAt: Date.UTC(2024, 0, 2, 3, 4, 5),
      durationMs: 7,
      problems: ["check backlog: 1500 > max 1000"],
      reason: "check backlog: 1500 > max 1000",
      checks: [
        { name: "backlog", ok: false, value: 1500, ms: 1.5, error: "1500 > max 1000" },
        { name: "lag", ok: true, value: 0, ms: 0.5 },
        { name: "none", ok: false, ms: 0.5, error: "query returned no row" },
      ],
    });
    const doc = healthDocument({ targets: ["app"], results: () => new Map([["app", r]]), version: "1.0.0" });
    expect(doc.status).toBe("warn");
    const time = "2024-01-02T03:04:05.007Z";
    const base = { componentId: "app", componentType: "datastore", time };
    expect(doc.checks["app:checks"]).toEqual([
      { ...base, check: "backlog", observedValue: 1500, status: "warn", output: "1500 > max 1000" },
      { ...base, check: "lag", observedValue: 0, status: "pass" },
      { ...base, check: "none", status: "warn", output: "query returned no row" },
    ]);
    expect(doc.checks["app:connection"]?.[0]?.output).toBe("check backlog: 1500 > max 1000");
  });

  it("has no checks entry when the cycle ran none", () => {
    const doc = healthDocument({ targets: ["app"], results: () => new Map([["app", result({ target: "app" })]]), version: "1.0.0" });
    expect(doc.checks).not.toHaveProperty("app:checks");
  });
});
