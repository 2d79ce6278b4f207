import { createRequire } from "node:module";
import { isAbsolute } from "node:path";
import { BUNDLED_DRIVERS } from "./bundled-drivers.js";
import { DbHealthError, describeDsn, driverRegistry, errorMessage, isDbHealthError, parseDsn, type DriverDefinition, type ParsedDsn } from "@alfred/db-health-core";

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

/** A DSN whose driver is wanted: its text (named in messages, redacted) and its parse. */
export interface DriverWanted {
  dsn: string;
  parsed: ParsedDsn;
}

/** What {@link findDrivers} found: a definition per DSN, and the problems, each with the DSN it is about. */
export interface FoundDrivers {
  /** Aligned with the DSNs asked for; `undefined` where no driver serves one. */
  definitions: Array<DriverDefinition | undefined>;
  /** One per plugin that failed to load (`target` unset) and per DSN without a driver, in that order. */
  problems: Array<{ target?: number; message: string }>;
}

/**
 * Imports the plugins and only the built-in driver packages the DSNs need (the `mssql` client
 * alone takes half a second to load), then looks each scheme up once. Problems are returned,
 * each with the index of the DSN it concerns, rather than thrown.
 *
 * @example
 * ```ts
 * const { definitions, problems } = await findDrivers([{ dsn, parsed: parseDsn(dsn) }], ["db-health-driver-foo"]);
 * ```
 */
export async function findDrivers(wanted: readonly DriverWanted[], plugins: readonly string[] = []): Promise<FoundDrivers> {
  const problems: FoundDrivers["problems"] = [];
  const loaded: string[] = [];
  const failed: string[] = [];
  for (const plugin of plugins) {
    const failure = await importPackage(plugin);
    if (!failure) loaded.push(plugin);
    else {
      problems.push({ message: failure.line(`plugin ${plugin}`) });
      failed.push(`${plugin} failed to load: ${failure.reason}`);
    }
  }
  // Once per scheme: the driver registered already (by a plugin, or an earlier import), else the
  // one its built-in package registers, the package imported once for all its schemes.
  const found = new Map<string, DriverDefinition | undefined>();
  const missing = new Map<string, { target: number; failure: Failure }>();
  for (const [i, { parsed }] of wanted.entries()) {
    const { scheme } = parsed;
    const pkg = BUILTIN_DRIVERS[scheme];
    if (!found.has(scheme)) {
      let definition = driverRegistry.get(scheme);
      if (!definition && pkg && !missing.has(pkg)) {
        const failure = await importPackage(pkg);
        if (failure) missing.set(pkg, { target: i, failure });
        else definition = driverRegistry.get(scheme);
      }
      found.set(scheme, definition);
    }
    // A package that did not load is one line, at the place of the first DSN that needs it,
    // naming the last one.
    const unloaded = pkg === undefined || found.get(scheme) ? undefined : missing.get(pkg);
    if (unloaded) missing.set(pkg!, { ...unloaded, target: i });
  }
  for (const { target, failure } of missing.values()) problems.push({ target, message: failure.line(`no driver for "${describeDsn(wanted[target]!.dsn)}"`) });
  const definitions = wanted.map(({ dsn, parsed }, i) => {
    const definition = found.get(parsed.scheme);
    if (!definition && !BUILTIN_DRIVERS[parsed.scheme]) {
      const said = [...(loaded.length > 0 ? [`loaded: ${loaded.join(", ")}`] : []), ...failed].join("; ");
      const hint = plugins.length === 0 ? "name a plugin package with --plugin" : `no plugin registers it (${said})`;
      problems.push({ target: i, message: `no driver for "${describeDsn(dsn)}": scheme "${parsed.scheme}" is not built in; ${hint}` });
    }
    return definition;
  });
  return { definitions, problems };
}

/**
 * Imports only the driver packages the configured DSNs need, then resolves each DSN to its
 * driver. Every DSN without a driver is reported in one error. The result is aligned with
 * `dsns`; a DSN whose scheme cannot be read gets `undefined` (the config check reports it).
 *
 * @example
 * ```ts
 * const defs = await loadDrivers(["file:app.db", "postgres://db/app"]);
 * ```
 */
export async function loadDrivers(dsns: readonly string[], plugins: readonly string[] = []): Promise<Array<DriverDefinition | undefined>> {
  // A DSN that does not parse has its own problem: "no driver for" a scheme read off a
  // malformed string would be a second, misleading line.
  const parsed = dsns.map((dsn) => {
    try {
      return parseDsn(dsn);
    } catch {
      return undefined;
    }
  });
  const wanted = dsns.flatMap((dsn, i) => (parsed[i] ? [{ dsn, parsed: parsed[i] }] : []));
  const { definitions, problems } = await findDrivers(wanted, plugins);
  if (problems.length > 0) throw new DbHealthError("config", [...new Set(problems.map((p) => p.message))].join("\n"));
  let next = 0;
  return parsed.map((p) => (p ? definitions[next++] : undefined));
}

/** The version of `pkg` that an import from here would load; undefined when it is not installed. */
function installedVersion(pkg: string): string | undefined {
  try {
    return (createRequire(import.meta.url)(`${pkg}/package.json`) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** Why a package did not load, and the line that says so after a context (`plugin X`). */
interface Failure {
  reason: string;
  line(context: string): string;
}

async function importPackage(pkg: string): Promise<Failure | undefined> {
  try {
    const bundled = BUNDLED_DRIVERS[pkg];
    if (bundled && installedVersion(pkg) === bundled.version) await bundled.load();
    else await import(pkg);
    return undefined;
  } catch (err) {
    const code = (err as { code?: string }).code;
    // Node names the missing specifier in quotes; a plugin whose own dependency is missing
    // names the plugin only in "imported from …" and is reported as failing to load.
    if (code === "ERR_MODULE_NOT_FOUND" && String((err as Error).message).includes(`'${pkg}'`)) {
      const reason = isAbsolute(pkg) ? "no such file" : `install ${pkg}`;
      return { reason, line: (context) => `${context}: ${reason}` };
    }
    // registerDriver() refused the plugin (a scheme another driver claims, an invalid
    // definition): its message names both sides already.
    if (isDbHealthError(err) && (err.kind === "config" || err.kind === "contract")) {
      return { reason: err.message, line: (context) => `${context}: ${err.message}` };
    }
    const reason = errorMessage(err);
    return { reason, line: (context) => `${context.includes(pkg) ? context : `${context}: ${pkg}`} failed to load: ${reason}` };
  }
}
