import { createRequire } from "node:module";
import { defineDriver, healthTableAdapter, type AdapterTarget, type DriverAdapter } from "@alfred/db-health-core";
import { createMysqlDialect } from "./mysql-adapter.js";
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
export const mysqlDriver = defineDriver({
  name: "mysql",
  packageName: "@alfred/db-health-driver-mysql",
  schemes: ["mysql", "mariadb"],
  capabilities: { replication: true, connectionCount: true, server: true, authentication: true },
  validate: validateMysqlDsn,
  timeoutsFromDsn: mysqlTimeoutsFromDsn,
  createDialect: (target) => createMysqlDialect(target, version),
});

/** The MySQL/MariaDB adapter (the 1.0 entry point, kept): {@link createMysqlDialect} inside core's health-table protocol. */
export const createMysqlAdapter = (target: AdapterTarget, v = version): DriverAdapter => healthTableAdapter(target, (t) => createMysqlDialect(t, v));
