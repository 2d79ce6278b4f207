import { describe, expect, it } from "vitest";
import { result } from "./__fixtures__/http-fixtures.js";
import { healthDocument } from "./health-json.js";

describe("healthDocument: connection limit and certificate expiry (issue 19)", () => {
  it("shows the server's limit and the certificate's notAfter when the driver reported them", () => {
    const r = result({ target: "orders", startedAt: Date.UTC(2024, 0, 2, 3, 4, 5), durationMs: 6.5, connectionsMax: 97, certificateExpiresAt: Date.UTC(2027, 2, 9, 12, 0, 0) });
    const doc = healthDocument({ targets: ["orders"], results: () => new Map([["orders", r]]), version: "1.4.2" });
    const time = "2024-01-02T03:04:05.007Z";
    expect(doc.status).toBe("pass");
    expect(doc.checks["orders:connectionsMax"]).toEqual([{ componentId: "orders", componentType: "datastore", observedValue: 97, status: "pass", time }]);
    expect(doc.checks["orders:certificateExpiry"]).toEqual([{ componentId: "orders", componentType: "datastore", observedValue: "2027-03-09T12:00:00.000Z", status: "pass", time }]);
  });

  it("leaves them out without a limit or TLS", () => {
    const r = result({ target: "orders" });
    const doc = healthDocument({ targets: ["orders"], results: () => new Map([["orders", r]]), version: "1.4.2" });
    expect(Object.keys(doc.checks).filter((k) => /connectionsMax|certificateExpiry/.test(k))).toEqual([]);
  });
});
