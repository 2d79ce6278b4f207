/**
 * `@alfred/db-health-driver-sqlite`: importing this entry registers the SQLite driver for
 * `file:`, `sqlite:` and `sqlite3:` DSNs, plain paths and `:memory:`.
 *
 * @example
 * ```ts
 * import "@alfred/db-health-driver-sqlite";
 * import { createDriver } from "@alfred/db-health-core";
 * const result = await createDriver({ dsn: "file:app.db?mode=rwc" }).probe();
 * ```
 */
import { registerDriver } from "@alfred/db-health-core";
import { sqliteDriver } from "./definition.js";

registerDriver(sqliteDriver);

export { sqliteDriver } from "./definition.js";
export { createSqliteAdapter } from "./definition.js";
export { createSqliteDialect } from "./sqlite-adapter.js";
export { classifySqliteError } from "./sqlite-file.js";
export { sqliteOpenOptions, type SqliteOpenOptions } from "./sqlite-options.js";
