import { defineDriver } from "@alfred/db-health-core";
import { createPgliteDialect } from "./pglite-dialect.js";
import { pgliteDataDir } from "./pglite-dsn.js";

/**
 * The PGlite driver definition, for `pglite:///data/dir` and `pglite://memory`. Importing this
 * module registers nothing; import the package entry for that. PGlite runs in this process, so a
 * target never reports a lost connection (see the dialect).
 *
 * @example
 * ```ts
 * import { driverRegistry } from "@alfred/db-health-core";
 * import { pgliteDriver } from "db-health-driver-pglite/definition";
 * driverRegistry.register(pgliteDriver);
 * ```
 */
export const pgliteDriver = defineDriver({
  name: "pglite",
  packageName: "db-health-driver-pglite",
  schemes: ["pglite"],
  capabilities: { replication: false, connectionCount: false, server: false, authentication: false },
  validate: (dsn) => void pgliteDataDir(dsn),
  createDialect: createPgliteDialect,
});
