import { afterEach } from "vitest";
import { createDriver, type Driver, type DriverDefinition, type TargetOptions } from "@alfred/db-health-core";

/**
 * What {@link testDrivers} makes a driver from: target options (the DSN included unless the
 * defaults hold it); `probeId` may be a function of how many drivers the current test has made.
 */
export type TestDriverOptions = Partial<Omit<TargetOptions, "probeId">> & { probeId?: string | ((index: number) => string) };

/** Made by {@link testDrivers}: call it for a driver; `closeAll()` closes the current test's drivers early (before dropping what they use). */
export interface TestDrivers {
  (options?: TestDriverOptions): Driver;
  closeAll(): Promise<void>;
}

/**
 * A maker of drivers for one test file: each driver is made with `definition` (no registry
 * lookup) from `defaults` and the options of the call, and every driver made during a test is
 * closed after it (vitest `afterEach`, registered here), so a failing test leaks no connection.
 * Call it at the top level of a test file.
 *
 * @example
 * ```ts
 * const make = testDrivers(postgresDriver, { maxRetries: 0, probeId: (i) => `test-${process.pid}-${i}` });
 * it("is up", async () => {
 *   expect((await make({ dsn: "postgres://postgres@127.0.0.1:5432/test" }).probe()).status).toBe("up");
 * });
 * ```
 */
export function testDrivers(definition: DriverDefinition, defaults: TestDriverOptions = {}): TestDrivers {
  const open: Driver[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.allSettled(open.splice(0).map((d) => d.close()));
  };
  afterEach(closeAll);
  const make = (options: TestDriverOptions = {}): Driver => {
    const { probeId, ...rest } = { ...defaults, ...options };
    const id = typeof probeId === "function" ? probeId(open.length) : probeId;
    const driver = createDriver({ ...rest, ...(id === undefined ? {} : { probeId: id }) } as TargetOptions, { definition });
    open.push(driver);
    return driver;
  };
  return Object.assign(make, { closeAll });
}
