import { isAbsolute } from "node:path";
import { DbHealthError, describeDsn, driverRegistry, errorMessage, isDbHealthError, parseDsn, type DriverDefinition } from "@alfred/db-health-core";

/** Built-in map from DSN scheme to the driver package that serves it. */
export const BUILTIN_DRIVERS: Readonly<Record<string, string>> = {
  postgres: "@alfred/db-health-driver-postgres",
  postgresql: "@alfred/db-health-driver-postgres",
  mysql: "@alfred/db-health-driver-mysql",
  mariadb: "@alfred/db-health-driver-mysql",
  file: "@alfred/db-health-driver-sqlite",
  sqlite: "@alfred/db-health-driver-sqlite",
  sqlite3: "@alfred/db-health-driver-sqlite",
  sqlserver: "@alfred/db-health-driver-mssql",
  mssql: "@alfred/db-health-driver-mssql",
};

/**
 * Imports only the driver packages the configured DSNs need (the `mssql` client alone takes
 * half a second to load), then resolves each DSN to its driver. Every DSN without a driver is
 * reported in one error. The result is aligned with `dsns`; a DSN whose scheme cannot be read
 * gets `undefined` (the config check reports it).
 *
 * @example
 * ```ts
 * const defs = await loadDrivers(["file:app.db", "postgres://db/app"]);
 * ```
 */
export async function loadDrivers(dsns: readonly string[], plugins: readonly string[] = []): Promise<Array<DriverDefinition | undefined>> {
  const problems: string[] = [];
  for (const plugin of plugins) {
    try {
      await importPackage(plugin, `plugin ${plugin}`);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  // A DSN that does not parse has its own problem (reported with its source): "no driver for"
  // a scheme read off a malformed string would be a second, misleading line.
  const schemes = dsns.map((dsn) => {
    try {
      return parseDsn(dsn).scheme;
    } catch {
      return undefined;
    }
  });
  const wanted = new Map<string, string>();
  dsns.forEach((dsn, i) => {
    const scheme = schemes[i];
    const pkg = scheme === undefined ? undefined : BUILTIN_DRIVERS[scheme];
    if (scheme !== undefined && pkg && !driverRegistry.get(scheme)) wanted.set(pkg, dsn);
  });
  for (const [pkg, dsn] of wanted) {
    try {
      await importPackage(pkg, `no driver for "${describeDsn(dsn)}"`);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const defs = dsns.map((dsn, i) => {
    const scheme = schemes[i];
    if (scheme === undefined) return undefined;
    const def = driverRegistry.get(scheme);
    if (!def && !BUILTIN_DRIVERS[scheme]) {
      const hint = plugins.length === 0 ? "name a plugin package with --plugin" : `no plugin registers it (loaded: ${plugins.join(", ")})`;
      problems.push(`no driver for "${describeDsn(dsn)}": scheme "${scheme}" is not built in; ${hint}`);
    }
    return def;
  });
  if (problems.length > 0) throw new DbHealthError("config", [...new Set(problems)].join("\n"));
  return defs;
}

async function importPackage(pkg: string, context: string): Promise<void> {
  try {
    await import(pkg);
  } catch (err) {
    const code = (err as { code?: string }).code;
    // Node names the missing specifier in quotes; a plugin whose own dependency is missing
    // names the plugin only in "imported from …" and is reported as failing to load.
    if (code === "ERR_MODULE_NOT_FOUND" && String((err as Error).message).includes(`'${pkg}'`)) {
      throw new DbHealthError("config", `${context}: ${isAbsolute(pkg) ? "no such file" : `install ${pkg}`}`);
    }
    // registerDriver() refused the plugin (a scheme another driver claims, an invalid
    // definition): its message names both sides already.
    if (isDbHealthError(err) && (err.kind === "config" || err.kind === "contract")) {
      throw new DbHealthError("config", `${context}: ${err.message}`, { cause: err });
    }
    const who = context.includes(pkg) ? context : `${context}: ${pkg}`;
    throw new DbHealthError("config", `${who} failed to load: ${errorMessage(err)}`, { cause: err });
  }
}
