import { describe, expect, it } from "vitest";
import { createMetrics, type Driver, type ProbeResult, type TargetConfig, resolveTargetConfig } from "@alfred/db-health-core";
import { clusterBoard } from "./cluster-daemon.js";
import type { Level, Logger } from "./logger.js";

const driver = (name: string): Driver => ({ config: resolveTargetConfig({ dsn: "postgres://app@db:5432/app", name, cluster: "main" }) as TargetConfig }) as unknown as Driver;
const down = (target: string): ProbeResult => ({
  target, driver: "postgres", endpoint: "postgres://db:5432/app", status: "down", role: "unknown", readOnly: false,
  problems: ["connect failed"], reason: "connect failed", phases: {}, attempts: 1, startedAt: Date.now(), durationMs: 1,
});

describe("clusterBoard (daemon)", () => {
  it("logs a cluster with no member up at warn, like a split brain or no primary", () => {
    const lines: Array<[Level, string, Record<string, unknown> | undefined]> = [];
    const log: Logger = { log: (level, msg, fields) => void lines.push([level, msg, fields]), enabled: () => true } as Logger;
    const board = clusterBoard([driver("a"), driver("b")], createMetrics().registry, () => {}, log, () => {})!;
    board.record(down("a"));
    board.record(down("b"));
    expect(lines.filter(([, msg]) => msg === "cluster").map(([level, , f]) => [level, f?.state])).toEqual([["warn", "down"]]);
    board.close();
  });
});
