import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import Database from "better-sqlite3";
import { parseDsn } from "@alfred/db-health-core";
import { runConformanceSuite } from "@alfred/db-health-testkit";
import { sqliteDriver } from "./definition.js";

const dir = mkdtempSync(join(tmpdir(), "dbh-sqlite-conformance-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runConformanceSuite({
  driver: sqliteDriver,
  dsn: `file:${dir}/conformance.db?mode=rwc`,
  unreachableDsn: `file:${dir}/no-such-dir/x.db?mode=rw`,
  countHealthRows: async (dsn, table, probeId) => {
    const db = new Database(parseDsn(dsn).database!, { readonly: true });
    try {
      return db.prepare(`SELECT count(*) FROM "${table}" WHERE probe_id = ?`).pluck().get(probeId) as number;
    } finally {
      db.close();
    }
  },
});
