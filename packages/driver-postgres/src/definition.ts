import { createRequire } from "node:module";
import type { DriverDefinition } from "@alfred/db-health-core";
import { createPostgresAdapter } from "./postgres-adapter.js";
import { postgresTimeoutsFromDsn, validatePostgresDsn } from "./postgres-options.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

/**
 * The PostgreSQL driver definition: `postgres://` and `postgresql://` DSNs. Importing this
 * module registers nothing; import the package entry for that.
 *
 * @example
 * ```ts
 * import { driverRegistry } from "@alfred/db-health-core";
 * import { postgresDriver } from "@alfred/db-health-driver-postgres/definition";
 * driverRegistry.register(postgresDriver);
 * ```
 */
export const postgresDriver: DriverDefinition = {
  name: "postgres",
  packageName: "@alfred/db-health-driver-postgres",
  schemes: ["postgres", "postgresql"],
  capabilities: { replication: true, connectionCount: true, server: true, authentication: true },
  validate: validatePostgresDsn,
  timeoutsFromDsn: postgresTimeoutsFromDsn,
  createAdapter: (target) => createPostgresAdapter(target, version),
};
