import type { ProbeResult } from "@alfred/db-health-core";
import { describe, expect, it } from "vitest";
import { result } from "./__fixtures__/http-fixtures.js";
import { healthDocument } from "./health-json.js";
import { readiness } from "./readiness.js";

const input = (results: ProbeResult[], targets = results.map((r) => r.target), ready?: { ok: boolean; reason?: string }) => ({
  targets,
  results: () => new Map(results.map((r) => [r.target, r])),
  version: "1.4.2",
  ...(ready ? { ready: () => ready } : {}),
});

describe("healthDocument", () => {
  it("passes with one datastore check per target, phase times and figures", () => {
    const r = result({ target: "orders", startedAt: Date.UTC(2024, 0, 2, 3, 4, 5), durationMs: 6.5, lagSeconds: 0.25, role: "replica" });
    const doc = healthDocument(input([r]));
    expect(doc).toEqual({
      status: "pass",
      version: "1",
      releaseId: "1.4.2",
      serviceId: "db-health",
      description: expect.any(String),
      checks: {
        "orders:connection": [
          {
            componentId: "orders",
            componentType: "datastore",
            observedValue: 6.5,
            observedUnit: "ms",
            status: "pass",
            time: "2024-01-02T03:04:05.007Z",
            engine: "postgres",
            role: "replica",
            phases: { connect: 3.25, ping: 0.412, role: 0.3, write: 1.875, read: 0.613 },
          },
        ],
        "orders:connections": [{ componentId: "orders", componentType: "datastore", observedValue: 7, status: "pass", time: "2024-01-02T03:04:05.007Z" }],
        "orders:replicationLag": [
          { componentId: "orders", componentType: "datastore", observedValue: 0.25, observedUnit: "s", status: "pass", time: "2024-01-02T03:04:05.007Z" },
        ],
      },
    });
  });

  it("maps degraded to warn and down to fail, with every problem as output", () => {
    const degraded = result({ target: "a", status: "degraded", reason: "write failed: read-only", problems: ["write failed: read-only", "integrity_check: 2 errors"] });
    const down = result({ target: "b", status: "down", reason: "connect failed: ECONNREFUSED", problems: ["connect failed: ECONNREFUSED"], phases: {}, connections: undefined });
    const warn = healthDocument(input([degraded]));
    expect(warn.status).toBe("warn");
    expect(warn.checks["a:connection"]?.[0]).toMatchObject({ status: "warn", output: "write failed: read-only; integrity_check: 2 errors" });
    expect(warn.output).toBe("a:connection: write failed: read-only; integrity_check: 2 errors");

    const fail = healthDocument(input([degraded, down]));
    expect(fail.status).toBe("fail");
    expect(fail.checks["b:connection"]?.[0]).toMatchObject({ status: "fail", output: "connect failed: ECONNREFUSED", phases: {} });
    expect(fail.checks["b:connections"]).toBeUndefined();
  });

  it("reports a target without a finished cycle as warn, and the extra condition as service:readiness", () => {
    const doc = healthDocument(input([result({ target: "a" })], ["a", "b"], { ok: false, reason: "child: port 5432 refuses connections" }));
    expect(doc.checks["b:connection"]).toEqual([{ componentId: "b", componentType: "datastore", status: "warn", output: "no probe cycle has finished yet" }]);
    expect(doc.checks["service:readiness"]?.[0]).toMatchObject({ status: "fail", output: "child: port 5432 refuses connections" });
    expect(doc.status).toBe("fail");
  });
});

describe("readiness", () => {
  it("is ready only when every target is up and the extra condition holds", () => {
    expect(readiness(input([result({ target: "a" })]))).toEqual({ ok: true, reasons: [] });
    expect(readiness(input([result({ target: "a", status: "degraded", reason: "write failed" })], ["a", "b"], { ok: false }))).toEqual({
      ok: false,
      reasons: ["a: degraded: write failed", "b: no probe cycle has finished yet", "not ready"],
    });
  });
});
