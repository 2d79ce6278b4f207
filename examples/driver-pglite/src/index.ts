/**
 * `db-health-driver-pglite`: importing this entry registers the PGlite driver (PostgreSQL in
 * WebAssembly, inside this process) for `pglite:` DSNs.
 *
 * @example
 * ```ts
 * import "db-health-driver-pglite";
 * import { createDriver } from "@alfred/db-health-core";
 * const result = await createDriver({ dsn: "pglite:///var/lib/app/pgdata", connectTimeout: "30s" }).probe();
 * ```
 */
import { parseDsn, registerDriver } from "@alfred/db-health-core";
import type { PGlite } from "@electric-sql/pglite";
import { pgliteDriver } from "./definition.js";
import { pgliteDataDir } from "./pglite-dsn.js";
import { openShared, type SharedDatabase } from "./shared-database.js";

registerDriver(pgliteDriver);

export { pgliteDriver } from "./definition.js";
export { createPgliteDialect } from "./pglite-dialect.js";
export { pgliteDataDir } from "./pglite-dsn.js";
export type { SharedDatabase } from "./shared-database.js";

/**
 * This process's PGlite instance for `dsn`, the one the probe uses (opened if needed). PGlite
 * is single-user: never open a second instance on a data directory the probe has open; take
 * this one and `release()` it when done.
 *
 * @example
 * ```ts
 * const shared = await openPglite("pglite:///var/lib/app/pgdata");
 * await shared.db.query("SELECT 1");
 * await shared.release();
 * ```
 */
export function openPglite(dsn: string): Promise<SharedDatabase> {
  return openShared(pgliteDataDir(parseDsn(dsn)));
}

/**
 * Runs `fn` on this process's PGlite instance for `dsn` (see {@link openPglite}), then releases it.
 *
 * @example
 * ```ts
 * const rows = await withPglite("pglite:///var/lib/app/pgdata", (db) => db.query("SELECT count(*) FROM _health_check"));
 * ```
 */
export async function withPglite<T>(dsn: string, fn: (db: PGlite) => Promise<T>): Promise<T> {
  const shared = await openPglite(dsn);
  try {
    return await fn(shared.db);
  } finally {
    await shared.release();
  }
}
