/**
 * `@alfred/db-health-driver-mssql`: importing this entry registers the SQL Server driver for
 * `sqlserver://`, `mssql://` and ADO-style connection strings. The mssql client itself loads
 * on the first connect, so importing the package costs nothing for other targets.
 *
 * @example
 * ```ts
 * import "@alfred/db-health-driver-mssql";
 * import { createDriver } from "@alfred/db-health-core";
 * const r = await createDriver({ dsn: "sqlserver://sa:pw@db:1433/app?trustServerCertificate=true" }).probe();
 * ```
 */
import { registerDriver } from "@alfred/db-health-core";
import { mssqlDriver } from "./definition.js";

registerDriver(mssqlDriver);

export { mssqlDriver } from "./definition.js";
export { createMssqlAdapter } from "./definition.js";
export { createMssqlDialect } from "./mssql-adapter.js";
export { classifyMssqlError } from "./mssql-errors.js";
export { mssqlTimeoutsFromDsn, validateMssqlDsn } from "./mssql-options.js";
export { SQL } from "./sql.js";
