import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.js";
import type { ProbeResult } from "../contract/probe-result.js";

const result = (over: Partial<ProbeResult> = {}): ProbeResult => ({
  target: "orders",
  driver: "postgres",
  endpoint: "postgres://app@db:5432/orders",
  status: "up",
  role: "primary",
  readOnly: false,
  problems: [],
  phases: { connect: { ok: true, ms: 3 }, ping: { ok: true, ms: 0.4 } },
  attempts: 1,
  connections: 7,
  connectionsMax: 97,
  certificateExpiresAt: 1_820_001_600_000,
  startedAt: 1_700_000_000_000,
  durationMs: 6.5,
  ...over,
});
const L = 'db_name="postgres",db_role="primary",target="orders"';
const MAX = `db_connections_max{${L}} 97`;
const EXPIRY = `db_tls_certificate_expiry_timestamp_seconds{${L}} 1820001600`;

describe("db_connections_max and db_tls_certificate_expiry_timestamp_seconds", () => {
  it("are exported in seconds with the base labels, in /metrics and /probe?target=", async () => {
    const m = createMetrics({ legacyNames: false });
    m.observe(result());
    const text = await m.render();
    expect(text).toContain("# TYPE db_connections_max gauge");
    expect(text).toContain(MAX);
    expect(text).toContain("# TYPE db_tls_certificate_expiry_timestamp_seconds gauge");
    expect(text).toContain(EXPIRY);
    expect(m.renderTarget("orders")).toContain(EXPIRY);
  });

  it("are absent without TLS or without a limit, and go when a later cycle has none", async () => {
    const m = createMetrics();
    m.observe(result({ connectionsMax: undefined, certificateExpiresAt: undefined }));
    let text = await m.render();
    expect(text).not.toMatch(/^db_connections_max\{/m);
    expect(text).not.toMatch(/^db_tls_certificate_expiry_timestamp_seconds\{/m);
    m.observe(result());
    m.observe(result({ status: "degraded", connectionsMax: undefined, certificateExpiresAt: undefined }));
    text = await m.render();
    expect(text).not.toContain(MAX);
    expect(text).not.toContain(EXPIRY);
  });

  it("keep the last certificate expiry while the target is down (an expired certificate fails the handshake)", async () => {
    const m = createMetrics();
    m.observe(result());
    m.observe(result({ status: "down", phases: {}, connections: undefined, connectionsMax: undefined, certificateExpiresAt: undefined }));
    const text = await m.render();
    expect(text).toContain(EXPIRY);
    expect(text).not.toContain(MAX);
  });

  it("are removed with the target", async () => {
    const m = createMetrics();
    m.observe(result());
    m.forget("orders");
    const text = await m.render();
    expect(text).not.toContain("target=\"orders\"");
    expect(await m.registry.getSingleMetricAsString("db_connections_max")).not.toContain("orders");
    expect(await m.registry.getSingleMetricAsString("db_tls_certificate_expiry_timestamp_seconds")).not.toContain("orders");
  });

  it("are what prom-client prints for them", async () => {
    const m = createMetrics();
    m.observe(result());
    m.observe(result({ target: "shop", driver: "mysql", certificateExpiresAt: undefined, connectionsMax: 151 }));
    const text = await m.render();
    for (const name of ["db_connections_max", "db_tls_certificate_expiry_timestamp_seconds"]) {
      const ours = text.split("\n\n").find((block) => block.includes(`# TYPE ${name} `));
      expect(`${ours}\n`).toBe(await m.registry.getSingleMetricAsString(name) + "\n");
    }
  });
});
