import { createRequire } from "node:module";
import type { DriverDefinition } from "@alfred/db-health-core";
import { createMssqlAdapter } from "./mssql-adapter.js";
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
export const mssqlDriver: DriverDefinition = {
  name: "mssql",
  packageName: "@alfred/db-health-driver-mssql",
  schemes: ["sqlserver", "mssql"],
  capabilities: { replication: true, connectionCount: true, server: true, authentication: true },
  validate: validateMssqlDsn,
  timeoutsFromDsn: mssqlTimeoutsFromDsn,
  createAdapter: (target) => createMssqlAdapter(target, version),
};
