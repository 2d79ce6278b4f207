import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { runConformanceSuite } from "@alfred/db-health-testkit";
import { openPglite, pgliteDriver, withPglite, type SharedDatabase } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "dbh-pglite-conformance-"));
const dsn = `pglite://${dir}/pgdata`;

// PGlite takes seconds to start: hold the instance for the whole file so each driver the suite
// creates joins it instead of starting its own.
let held: SharedDatabase | undefined;
beforeAll(async () => {
  held = await openPglite(dsn);
}, 120_000);
afterAll(async () => {
  await held?.release();
  rmSync(dir, { recursive: true, force: true });
});

runConformanceSuite({
  driver: pgliteDriver,
  dsn,
  // a data directory whose parent is a file: PGlite cannot create it
  unreachableDsn: "pglite:///dev/null/pgdata",
  config: { connectTimeout: "60s" },
  // Custom checks: PGlite runs on this thread, so no timer can end a pg_sleep() (no `sleep`: that case is skipped).
  checks: {
    exec: (target, sql) => withPglite(target, async (db) => (await db.query<unknown[]>(sql, [], { rowMode: "array" })).rows[0]?.[0]),
    writes: ["WITH d AS (DELETE FROM {table} RETURNING n) SELECT count(*) FROM d"],
  },
  countHealthRows: (target, table, probeId) =>
    withPglite(target, async (db) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}" WHERE probe_id = $1`, [probeId])).rows[0]!.n),
});
