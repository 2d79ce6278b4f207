/**
 * `@alfred/db-health-driver-postgres`: importing this entry registers the PostgreSQL driver for
 * `postgres://` and `postgresql://` DSNs.
 *
 * @example
 * ```ts
 * import "@alfred/db-health-driver-postgres";
 * import { createDriver } from "@alfred/db-health-core";
 * const result = await createDriver({ dsn: "postgres://app@db:5432/app?sslmode=require" }).probe();
 * ```
 */
import { registerDriver } from "@alfred/db-health-core";
import { postgresDriver } from "./definition.js";

registerDriver(postgresDriver);

export { postgresDriver } from "./definition.js";
export { createPostgresAdapter } from "./definition.js";
export { createPostgresDialect } from "./postgres-adapter.js";
export { classifyPostgresError } from "./postgres-errors.js";
// postgresSettings() is not exported: its result holds the password and TLS key in the clear.
export { postgresTimeoutsFromDsn, validatePostgresDsn } from "./postgres-options.js";
export { sendCancel } from "./cancel.js";
export { SQL } from "./sql.js";
