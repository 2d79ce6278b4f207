import { describe, expect, it } from "vitest";
import { lintMetrics, withPromtool } from "../__fixtures__/promtool.js";
import { createMetrics } from "./metrics.js";
import type { CheckResult } from "../contract/types.js";
import type { ProbeResult } from "../contract/probe-result.js";

const result = (checks: CheckResult[] | undefined, over: Partial<ProbeResult> = {}): ProbeResult => ({
  target: "orders",
  driver: "postgres",
  endpoint: "postgres://app@db:5432/orders",
  status: checks?.every((c) => c.ok) === false ? "degraded" : "up",
  role: "primary",
  readOnly: false,
  problems: [],
  phases: { connect: { ok: true, ms: 3 }, ping: { ok: true, ms: 0.5 } },
  attempts: 1,
  startedAt: 1_700_000_000_000,
  durationMs: 6.5,
  ...(checks ? { checks } : {}),
  ...over,
});
const L = 'db_name="postgres",db_role="primary",target="orders"';
const backlog: CheckResult = { name: "backlog", ok: false, value: 1500, ms: 2.5, error: "1500 > max 1000" };
const lag: CheckResult = { name: "lag", ok: true, value: 0.25, ms: 1 };
const broken: CheckResult = { name: "broken", ok: false, ms: 0.75, error: "query returned no row" };
const checkLines = (text: string): string[] => text.split("\n").filter((l) => l.startsWith("db_check_")).sort();


describe("custom check metrics", () => {
  it("export each check's value, up and duration, the value only when there is one", async () => {
    const m = createMetrics({ legacyNames: false });
    m.observe(result([backlog, lag, broken]));
    const text = await m.render();
    expect(checkLines(text)).toEqual(
      [
        `db_check_value{${L},check="backlog"} 1500`,
        `db_check_value{${L},check="lag"} 0.25`,
        `db_check_up{${L},check="backlog"} 0`,
        `db_check_up{${L},check="lag"} 1`,
        `db_check_up{${L},check="broken"} 0`,
        `db_check_duration_seconds{${L},check="backlog"} 0.0025`,
        `db_check_duration_seconds{${L},check="lag"} 0.001`,
        `db_check_duration_seconds{${L},check="broken"} 0.00075`,
      ].sort(),
    );
    for (const family of ["db_check_value", "db_check_up", "db_check_duration_seconds"]) expect(text).toContain(`# TYPE ${family} gauge`);
    // the cached text is what prom-client prints, and /probe?target= has the same lines
    const ours = (t: string): string[] => t.split("\n").filter((l) => /^(# (HELP|TYPE) )?db_check_/.test(l)).sort();
    expect(ours(text)).toEqual(ours(await m.registry.metrics()));
    expect(checkLines(m.renderTarget("orders"))).toEqual(checkLines(text));
  });

  it("drop a check's series once a cycle did not run it, and its value once it gave none", async () => {
    const m = createMetrics({ legacyNames: false });
    m.observe(result([backlog, lag]));
    m.observe(result([{ ...backlog, value: undefined, error: "timed out after 2s" } as CheckResult]));
    let text = await m.render();
    expect(checkLines(text)).toEqual([`db_check_duration_seconds{${L},check="backlog"} 0.0025`, `db_check_up{${L},check="backlog"} 0`]);
    expect(checkLines(await m.registry.metrics())).toEqual(checkLines(text));
    // a cycle that ran no check (the target down): no check series at all
    m.observe(result(undefined, { status: "down" }));
    text = await m.render();
    expect(checkLines(text)).toEqual([]);
    expect(checkLines(await m.registry.metrics())).toEqual([]);
    // and back
    m.observe(result([lag]));
    expect(checkLines(await m.render())).toContain(`db_check_value{${L},check="lag"} 0.25`);
  });

  it("go with their target, and move with its role", async () => {
    const m = createMetrics({ legacyNames: false });
    m.observe(result([lag]));
    m.observe(result([lag], { role: "replica" }));
    let text = await m.render();
    expect(text).not.toContain('db_role="primary"');
    expect(text).toContain('db_check_up{db_name="postgres",db_role="replica",target="orders",check="lag"} 1');
    expect(checkLines(await m.registry.metrics())).toEqual(checkLines(text));
    m.forget("orders");
    text = await m.render();
    expect(checkLines(text)).toEqual([]);
    expect(checkLines(await m.registry.metrics())).toEqual([]);
  });

  withPromtool("lint clean", async () => {
    const m = createMetrics({ legacyNames: false });
    m.observe(result([backlog, lag, broken]));
    expect(lintMetrics(await m.render())).toEqual({ status: 0, output: "" });
  });
});
