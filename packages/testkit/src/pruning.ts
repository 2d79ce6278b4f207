import { randomUUID } from "node:crypto";
import { createRedactor, dsnSecrets, errorMessage, guardAdapter, healthToken, parseDsn, resolveTargetConfig, type DriverAdapter, type DriverDefinition, type TargetOptions } from "@alfred/db-health-core";

/** How old a row must be to go, in this check: `pruneAfter` is at least a minute in a real configuration. */
const PRUNE_AFTER_MS = 1000;
/** How long the stale row waits before the pruning write: twice `PRUNE_AFTER_MS` and a margin. */
const STALE_FOR_MS = 2 * PRUNE_AFTER_MS + 200;

/**
 * Checks that a driver prunes the health table: a write deletes the rows of other probers whose
 * `checked_at` is older than `pruneAfter` and keeps the fresh ones, so rows of probers gone for
 * good (old pod names…) do not pile up. Core's health-table protocol does it for a driver built
 * with `defineDriver`, through the dialect's `prune` statement, at the first write and then once
 * a minute; an adapter written by hand (the deprecated contract) must do the same in `write()`.
 * Runs on a health table of its own (`_health_prune_<pid>`), with `pruneAfter` at 1 s, so that it
 * never deletes rows other tests on a shared server use. Throws an `Error` naming the driver and
 * the rule broken.
 *
 * @example
 * ```ts
 * await checkPruning(myDriver, "mydb://127.0.0.1/test", countHealthRows);
 * // Error: mydb: a write by a prober with pruneAfter=1s left the row of a prober gone for 2.2 s: …
 * ```
 */
export async function checkPruning(
  definition: DriverDefinition,
  dsn: string,
  countHealthRows: (dsn: string, table: string, probeId: string) => Promise<number>,
  config: Partial<TargetOptions> = {},
): Promise<void> {
  const who = definition.packageName ? `${definition.name} (${definition.packageName})` : definition.name;
  const fail = (text: string): Error => new Error(`${who}: ${text}`);
  const base = resolveTargetConfig({ dsn, healthTable: `_health_prune_${process.pid}`, ...config } as TargetOptions);
  const run = randomUUID().slice(0, 8);
  const ids = { gone: `prune-gone-${run}`, fresh: `prune-fresh-${run}`, pruner: `prune-pruner-${run}` };
  const writeOnce = async (probeId: string, pruneAfter = base.pruneAfter): Promise<void> => {
    const adapter: DriverAdapter = guardAdapter(
      definition.createAdapter({ config: { ...base, probeId, pruneAfter }, dsn: parseDsn(base.dsn), redact: createRedactor(dsnSecrets(base.dsn)), connectionLost: () => undefined }),
      definition,
    );
    try {
      await adapter.connect(AbortSignal.timeout(base.connectTimeout));
      await adapter.write(healthToken(), AbortSignal.timeout(base.writeTimeout));
    } catch (err) {
      throw fail(`the prober ${probeId} could not write to ${base.healthTable}: ${errorMessage(err)}`);
    } finally {
      await adapter.close().catch(() => undefined);
    }
  };
  await writeOnce(ids.gone);
  await new Promise((resolve) => setTimeout(resolve, STALE_FOR_MS));
  await writeOnce(ids.fresh);
  await writeOnce(ids.pruner, PRUNE_AFTER_MS);
  const count = (id: string): Promise<number> => countHealthRows(base.dsn, base.healthTable, id);
  if ((await count(ids.pruner)) !== 1) throw fail(`the pruning prober's own row is missing from ${base.healthTable}`);
  if ((await count(ids.gone)) !== 0) {
    throw fail(
      `a write by a prober with pruneAfter=${PRUNE_AFTER_MS / 1000}s left the row of a prober last seen ${STALE_FOR_MS / 1000} s before: ` +
        "delete the rows of other probers (probe_id <> this one) whose checked_at is older than pruneAfter, at the first write and then once a minute " +
        "(defineDriver does it for you through the dialect's prune statement)",
    );
  }
  if ((await count(ids.fresh)) !== 1) throw fail(`pruning deleted the row of a prober that wrote just before: delete only rows older than pruneAfter`);
}
