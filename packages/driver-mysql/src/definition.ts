import { createRequire } from "node:module";
import type { DriverDefinition } from "@alfred/db-health-core";
import { createMysqlAdapter } from "./mysql-adapter.js";
import { mysqlTimeoutsFromDsn, validateMysqlDsn } from "./mysql-options.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

/**
 * The MySQL/MariaDB driver definition: `mysql://` (plain or Go-style `tcp(host:port)` and
 * `unix(/path)`) and `mariadb://` DSNs. Importing this module registers nothing.
 *
 * @example
 * ```ts
 * import { driverRegistry } from "@alfred/db-health-core";
 * import { mysqlDriver } from "@alfred/db-health-driver-mysql/definition";
 * driverRegistry.register(mysqlDriver);
 * ```
 */
export const mysqlDriver: DriverDefinition = {
  name: "mysql",
  packageName: "@alfred/db-health-driver-mysql",
  schemes: ["mysql", "mariadb"],
  capabilities: { replication: true, connectionCount: true, server: true, authentication: true },
  validate: validateMysqlDsn,
  timeoutsFromDsn: mysqlTimeoutsFromDsn,
  createAdapter: (target) => createMysqlAdapter(target, version),
};
