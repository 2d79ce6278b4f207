import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  createRedactor,
  dsnSecrets,
  guardAdapter,
  healthToken,
  isDbHealthError,
  parseDsn,
  resolveTargetConfig,
  withDeadline,
  type DriverAdapter,
  type DriverDefinition,
  type TargetOptions,
} from "@alfred/db-health-core";
import type { CheckConformanceOptions } from "./options.js";

/** The check timeout of the timeout case, and how long its sleep would run if nothing ended it. */
const CHECK_TIMEOUT_MS = 500;
const SLEEP_SECONDS = 30;
/** "Ended near the deadline": long before the sleep would end, never a timing assertion. */
const ENDED_WITHIN_MS = 10_000;

/** What {@link registerCheckCases} needs from the suite. */
export interface CheckCaseContext {
  definition: DriverDefinition;
  dsn(): string;
  config?: Partial<TargetOptions>;
  checks?: CheckConformanceOptions;
  countHealthRows(dsn: string, table: string, probeId: string): Promise<number>;
}

/**
 * Registers the read-only check cases (`DriverAdapter.check`, a dialect's `readOnlyQuery`) with
 * vitest, inside the conformance suite's `describe`. Each case skips itself when the driver's
 * adapter has no `check`. They call the adapter directly, as core's probe cycle does, on a
 * scratch table `_health_check_scratch_<pid>` that `checks.exec` creates and drops: a query's
 * first value comes back, writes, DDL and several statements fail and change nothing, a check
 * past its timeout ends then and the adapter works afterwards, and no transaction stays open.
 */
export function registerCheckCases(ctx: CheckCaseContext): void {
  const scratch = `_health_check_scratch_${process.pid}`;
  const other = `_health_check_ddl_${process.pid}`;
  const adapters: DriverAdapter[] = [];
  let supported: boolean | undefined;

  const open = async (): Promise<{ adapter: DriverAdapter; probeId: string; table: string }> => {
    const target = resolveTargetConfig({ dsn: ctx.dsn(), probeId: `checks-${process.pid}-${randomUUID()}`, ...ctx.config } as TargetOptions);
    const adapter = guardAdapter(
      ctx.definition.createAdapter({ config: target, dsn: parseDsn(target.dsn), redact: createRedactor(dsnSecrets(target.dsn)), connectionLost: () => undefined }),
      ctx.definition,
    );
    adapters.push(adapter);
    await adapter.connect(AbortSignal.timeout(target.connectTimeout));
    return { adapter, probeId: target.probeId, table: target.healthTable };
  };
  /** The check under a deadline as core runs it: past it the connection is destroyed. */
  const check = (adapter: DriverAdapter, sql: string, timeoutMs = 5000): Promise<unknown> =>
    withDeadline(timeoutMs, (signal) => adapter.check!(sql, signal, timeoutMs), { what: "check", onTimeout: () => adapter.destroy?.() });
  const refused = async (adapter: DriverAdapter, sql: string): Promise<void> => {
    const outcome = await check(adapter, sql).then(
      (value) => ({ value }),
      (err: unknown) => ({ err }),
    );
    if (!("err" in outcome)) throw new Error(`${ctx.definition.name}: check(${JSON.stringify(sql)}) returned ${JSON.stringify(outcome.value)}: it must fail (read-only, one statement)`);
    expect(isDbHealthError(outcome.err) && outcome.err.message.length > 0, `check(${JSON.stringify(sql)}) fails with a reason`).toBe(true);
  };
  const exec = (sql: string): Promise<unknown> => {
    if (!ctx.checks) throw new Error(`${ctx.definition.name}: its adapter has check(): give the suite \`checks\` options (exec, sleep) to test it`);
    return ctx.checks.exec(ctx.dsn(), sql);
  };
  const unchanged = async (): Promise<void> => {
    expect(Number(await exec(`SELECT count(*) FROM ${scratch}`)), `${scratch} keeps its one row`).toBe(1);
    expect(Number(await exec(`SELECT max(n) FROM ${scratch}`)), `${scratch} keeps its value`).toBe(1);
  };
  /** Skips the case when the adapter has no check(); decided once, on a first adapter. */
  const needsCheck = async (skip: (note?: string) => never): Promise<void> => {
    if (supported === undefined) {
      const { adapter } = await open();
      supported = typeof adapter.check === "function";
    }
    if (!supported) skip(`${ctx.definition.name} has no check()`);
    // A suite written before checks existed still passes; it says what it does not test.
    if (!ctx.checks) skip(`${ctx.definition.name} has check(), but the suite got no \`checks\` options (exec, sleep) to test it with`);
  };

  beforeAll(async () => {
    if (!ctx.checks) return;
    await exec(`DROP TABLE IF EXISTS ${scratch}`).catch(() => undefined);
    await exec(`CREATE TABLE ${scratch} (n INT)`);
    await exec(`INSERT INTO ${scratch} (n) VALUES (1)`);
  });
  afterAll(async () => {
    await Promise.allSettled(adapters.map((a) => a.close()));
    if (!ctx.checks) return;
    // A transaction a check left open would hold a lock on the table: this DROP would wait.
    await exec(`DROP TABLE ${scratch}`).catch(() => undefined);
    await exec(`DROP TABLE ${other}`).catch(() => undefined);
  });

  it("check: runs a read-only query and returns the first column of its first row", async ({ skip }) => {
    await needsCheck(skip);
    const { adapter } = await open();
    expect(Number(await check(adapter, "SELECT 42")), "check('SELECT 42') gives 42 (a number, or a string or bigint that is one)").toBe(42);
    expect(Number(await check(adapter, `SELECT n FROM ${scratch}`))).toBe(1);
    expect(await check(adapter, `SELECT n FROM ${scratch} WHERE n = -1`), "no row: undefined").toBeUndefined();
  });

  it("check: a query that writes fails and changes nothing", async ({ skip }) => {
    await needsCheck(skip);
    const { adapter } = await open();
    const writes = [`INSERT INTO ${scratch} (n) VALUES (2)`, `UPDATE ${scratch} SET n = 3`, `DELETE FROM ${scratch}`, ...(ctx.checks?.writes ?? []).map((w) => w.replaceAll("{table}", scratch))];
    for (const sql of writes) await refused(adapter, sql);
    await unchanged();
  });

  it("check: DDL fails and changes nothing", async ({ skip }) => {
    await needsCheck(skip);
    const { adapter } = await open();
    for (const sql of [`DROP TABLE ${scratch}`, `CREATE TABLE ${other} (n INT)`, `ALTER TABLE ${scratch} ADD m INT`]) await refused(adapter, sql);
    await unchanged();
    await expect(exec(`SELECT count(*) FROM ${other}`), `${other} was not created`).rejects.toThrow();
    await expect(exec(`SELECT m FROM ${scratch}`), `${scratch} got no column m`).rejects.toThrow();
  });

  it("check: several statements are refused, the first one too", async ({ skip }) => {
    await needsCheck(skip);
    const { adapter } = await open();
    for (const sql of ["SELECT 1; SELECT 2", `SELECT 1; DELETE FROM ${scratch}`, `SELECT n FROM ${scratch}; UPDATE ${scratch} SET n = 4`]) await refused(adapter, sql);
    await unchanged();
  });

  it("check: a query past its timeout ends then, and the adapter works for the next cycle", async ({ skip }) => {
    await needsCheck(skip);
    if (!ctx.checks?.sleep) skip(`no checks.sleep for ${ctx.definition.name}`);
    const { adapter } = await open();
    let dropped = false;
    const t0 = performance.now();
    const err = await withDeadline(CHECK_TIMEOUT_MS, (signal) => adapter.check!(ctx.checks!.sleep!(SLEEP_SECONDS), signal, CHECK_TIMEOUT_MS), {
      what: "check",
      onTimeout: () => {
        dropped = true;
        adapter.destroy?.();
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = performance.now() - t0;
    expect(isDbHealthError(err) && err.kind, `a ${SLEEP_SECONDS} s sleep under a ${CHECK_TIMEOUT_MS} ms check timeout fails as a timeout`).toBe("timeout");
    expect(elapsed, "ended long before the sleep would").toBeLessThan(ENDED_WITHIN_MS);
    // As core does: a connection given up at the deadline, or one the adapter says is gone, is replaced.
    if (dropped || adapter.connected?.() === false) await adapter.connect(AbortSignal.timeout(5000));
    expect(Number(await check(adapter, "SELECT 42"))).toBe(42);
    const token = healthToken();
    await adapter.write(token, AbortSignal.timeout(5000));
    expect((await adapter.read(AbortSignal.timeout(5000)))?.split(" ")[0]).toBe(token);
  });

  it("check: leaves no transaction open, whatever the check says (the health-table write after it commits)", async ({ skip }) => {
    await needsCheck(skip);
    const { adapter, probeId, table } = await open();
    for (const sql of ["BEGIN", "START TRANSACTION", "BEGIN TRANSACTION", "COMMIT", "ROLLBACK", `INSERT INTO ${scratch} (n) VALUES (5)`, "SELECT 1; SELECT 2", "SELECT 42"]) {
      await check(adapter, sql).catch(() => undefined);
      if (adapter.connected?.() === false) await adapter.connect(AbortSignal.timeout(5000));
    }
    const token = healthToken();
    await adapter.write(token, AbortSignal.timeout(5000));
    // Counted on a connection of the engine's own client: only a committed row is seen there.
    expect(await ctx.countHealthRows(ctx.dsn(), table, probeId), "the write after the checks is committed").toBe(1);
    expect(Number(await check(adapter, "SELECT 42"))).toBe(42);
    await unchanged();
  });
}
