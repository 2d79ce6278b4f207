/**
 * `@alfred/db-health-driver-mysql`: importing this entry registers the MySQL/MariaDB driver for
 * `mysql://` and `mariadb://` DSNs, including the Go form `mysql://user:pass@tcp(host:3306)/db`.
 *
 * @example
 * ```ts
 * import "@alfred/db-health-driver-mysql";
 * import { createDriver } from "@alfred/db-health-core";
 * const result = await createDriver({ dsn: "mysql://app:pw@tcp(db:3306)/app" }).probe();
 * ```
 */
import { registerDriver } from "@alfred/db-health-core";
import { mysqlDriver } from "./definition.js";

registerDriver(mysqlDriver);

export { mysqlDriver } from "./definition.js";
export { createMysqlAdapter } from "./definition.js";
export { createMysqlDialect } from "./mysql-adapter.js";
export { classifyMysqlError } from "./mysql-errors.js";
export { mysqlSettings, mysqlTimeoutsFromDsn, validateMysqlDsn, type MysqlSettings } from "./mysql-options.js";
export { SQL } from "./sql.js";
