/**
 * One fault case: snapshot what is open, run the case with tracked drivers, close them and the
 * case's own fixtures, then record what was observed and what was left behind.
 */
import { createDriver, type Driver, type DriverDefinition, type ProbeResult, type TargetOptions } from "@alfred/db-health-core";
import { leftBehind, snapshot } from "./leaks.js";
import type { Matrix, MatrixRow } from "./record.js";

/** the deadlines every matrix case runs with, unless a case says otherwise */
export const DEADLINES = { connectTimeout: 1_000, readTimeout: 1_000, writeTimeout: 1_000, maxRetries: 0, retryInterval: 10 } as const;

export interface Observation {
  observed: string;
  detectMs?: number;
  reason?: string;
  note?: string;
}

export interface CaseContext {
  /** a driver with the matrix deadlines, closed by the case runner */
  driver(dsn: string, over?: Partial<TargetOptions>): Driver;
  /** registers a cleanup run (in reverse order) before the leak check */
  defer(fn: () => unknown): void;
}

export interface CaseSpec {
  fault: string;
  expected: string;
  run(ctx: CaseContext): Promise<Observation>;
}

let serial = 0;

/** runs one case and records its row; the caller asserts `row.pass` */
export async function runCase(matrix: Matrix, definition: DriverDefinition, sessions: () => Promise<number>, spec: CaseSpec): Promise<MatrixRow> {
  const before = await snapshot(sessions);
  const drivers: Driver[] = [];
  const cleanups: Array<() => unknown> = [];
  let observation: Observation;
  try {
    observation = await spec.run({
      driver(dsn, over = {}) {
        const d = createDriver({ dsn, ...DEADLINES, probeId: `matrix-${process.pid}-${++serial}`, ...over }, { definition });
        drivers.push(d);
        return d;
      },
      defer(fn) {
        cleanups.push(fn);
      },
    });
  } catch (err) {
    observation = { observed: "error in the test", reason: err instanceof Error ? err.message : String(err) };
  } finally {
    await Promise.allSettled(drivers.map((d) => d.close()));
    for (const fn of cleanups.reverse()) await Promise.resolve().then(fn).catch(() => undefined);
  }
  return matrix.add({ fault: spec.fault, expected: spec.expected, ...observation, leftBehind: await leftBehind(before, sessions) });
}

/** one probe and its wall time */
export async function timedProbe(driver: Driver): Promise<{ result: ProbeResult; ms: number }> {
  const t0 = performance.now();
  const result = await driver.probe();
  return { result, ms: performance.now() - t0 };
}

/** the observation of a single probe: status, time, reason */
export async function observeProbe(driver: Driver, note?: (r: ProbeResult) => string | undefined): Promise<Observation> {
  const { result, ms } = await timedProbe(driver);
  return { observed: result.status, detectMs: ms, reason: result.reason, note: note?.(result) };
}

/** probes until `status` is reported or `withinMs` passes; the time until it was reported */
export async function probeUntil(driver: Driver, status: string, withinMs: number, everyMs = 100): Promise<{ result: ProbeResult; ms: number }> {
  const t0 = performance.now();
  for (;;) {
    const result = await driver.probe();
    if (result.status === status || performance.now() - t0 > withinMs) return { result, ms: performance.now() - t0 };
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** a row expectation message that shows the whole row when it fails */
export const describeRow = (row: MatrixRow): string => JSON.stringify(row, null, 2);
