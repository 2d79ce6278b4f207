import { defineDriver, healthTableAdapter, type AdapterTarget, type DriverAdapter } from "@alfred/db-health-core";
import { createSqliteDialect } from "./sqlite-adapter.js";
import { sqliteOpenOptions } from "./sqlite-options.js";

/**
 * The SQLite driver definition: `file:` and `sqlite:` DSNs, plain paths and `:memory:`.
 * Importing this module registers nothing; import the package entry for that.
 *
 * SQLite runs in this process: there is no server and no connection to lose, so the adapter
 * never reports one (`AdapterTarget.connectionLost`) and a SQLite target's
 * `Driver.onConnectionLost` listeners are never called. A file that becomes unreadable or is
 * replaced shows in the next probe cycle.
 *
 * @example
 * ```ts
 * import { driverRegistry } from "@alfred/db-health-core";
 * import { sqliteDriver } from "@alfred/db-health-driver-sqlite/definition";
 * driverRegistry.register(sqliteDriver);
 * ```
 */
export const sqliteDriver = defineDriver({
  name: "sqlite",
  packageName: "@alfred/db-health-driver-sqlite",
  schemes: ["file", "sqlite", "sqlite3"],
  capabilities: { replication: false, connectionCount: false, server: false, authentication: false },
  validate: (dsn) => void sqliteOpenOptions(dsn),
  createDialect: createSqliteDialect,
});

/** The SQLite adapter (the 1.0 entry point, kept): {@link createSqliteDialect} inside core's health-table protocol. */
export const createSqliteAdapter = (target: AdapterTarget): DriverAdapter => healthTableAdapter(target, createSqliteDialect);
