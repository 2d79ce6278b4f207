import { createRequire } from "node:module";
import { defineDriver, healthTableAdapter, type AdapterTarget, type DriverAdapter } from "@alfred/db-health-core";
import { createMssqlDialect } from "./mssql-adapter.js";
import { mssqlTimeoutsFromDsn, validateMssqlDsn } from "./mssql-options.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

/**
 * The SQL Server driver definition: `sqlserver://` and `mssql://` URLs and ADO-style
 * `Server=…;Database=…;User Id=…;Password=…;` strings. Importing it does not load mssql; the
 * first connect does.
 *
 * @example
 * ```ts
 * import { driverRegistry } from "@alfred/db-health-core";
 * import { mssqlDriver } from "@alfred/db-health-driver-mssql/definition";
 * driverRegistry.register(mssqlDriver);
 * ```
 */
export const mssqlDriver = defineDriver({
  name: "mssql",
  packageName: "@alfred/db-health-driver-mssql",
  schemes: ["sqlserver", "mssql"],
  capabilities: { replication: true, connectionCount: true, server: true, authentication: true },
  validate: validateMssqlDsn,
  timeoutsFromDsn: mssqlTimeoutsFromDsn,
  createDialect: (target) => createMssqlDialect(target, version),
});

/** The SQL Server adapter (the 1.0 entry point, kept): {@link createMssqlDialect} inside core's health-table protocol. */
export const createMssqlAdapter = (target: AdapterTarget, v = version): DriverAdapter => healthTableAdapter(target, (t) => createMssqlDialect(t, v));
