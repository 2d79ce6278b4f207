import { createRequire } from "node:module";
import { defineDriver, healthTableAdapter, type AdapterTarget, type DriverAdapter } from "@alfred/db-health-core";
import { createPostgresDialect } from "./postgres-adapter.js";
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
export const postgresDriver = defineDriver({
  name: "postgres",
  packageName: "@alfred/db-health-driver-postgres",
  schemes: ["postgres", "postgresql"],
  capabilities: { replication: true, connectionCount: true, server: true, authentication: true },
  validate: validatePostgresDsn,
  timeoutsFromDsn: postgresTimeoutsFromDsn,
  createDialect: (target) => createPostgresDialect(target, version),
});

/** The PostgreSQL adapter (the 1.0 entry point, kept): {@link createPostgresDialect} inside core's health-table protocol. */
export const createPostgresAdapter = (target: AdapterTarget, v = version): DriverAdapter => healthTableAdapter(target, (t) => createPostgresDialect(t, v));
