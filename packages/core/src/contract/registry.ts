import { DbHealthError } from "./errors.js";
import { dsnScheme, describeDsn } from "../dsn/dsn.js";
import type { DriverDefinition } from "./driver-definition.js";

/** Where the process-wide registry lives, shared by every copy of core that is loaded. */
const REGISTRY_KEY = Symbol.for("@alfred/db-health-core/registry/v1");

/**
 * Maps DSN schemes to driver definitions. There is one per process: two installed copies of
 * core find the same instance on `globalThis`, so a driver that imported another copy still
 * registers where the CLI looks.
 *
 * @example
 * ```ts
 * import { driverRegistry } from "@alfred/db-health-core";
 * driverRegistry.register(myDriver);
 * driverRegistry.resolve("file:app.db").name; // "sqlite"
 * ```
 */
export class DriverRegistry {
  readonly #byScheme = new Map<string, DriverDefinition>();

  /**
   * Adds a driver. Registering the same driver twice (same name and package) is a no-op, so
   * an entry module evaluated twice is harmless; two different drivers claiming one scheme is
   * an error naming both.
   */
  register(definition: DriverDefinition): void {
    validateDefinition(definition);
    const schemes = definition.schemes.map((s) => s.toLowerCase());
    for (const scheme of schemes) {
      const existing = this.#byScheme.get(scheme);
      if (existing && !sameDriver(existing, definition)) {
        throw new DbHealthError(
          "config",
          `two drivers claim the DSN scheme "${scheme}": ${label(existing)} and ${label(definition)}; uninstall one of them`,
        );
      }
    }
    // A re-registration replaces the driver's previous schemes rather than adding to them.
    this.unregister(definition);
    for (const scheme of schemes) this.#byScheme.set(scheme, definition);
  }

  /** Removes a driver's schemes (tests, hot reload). */
  unregister(definition: DriverDefinition): void {
    for (const [scheme, def] of this.#byScheme) if (sameDriver(def, definition)) this.#byScheme.delete(scheme);
  }

  /** The driver for a scheme, or `undefined`. */
  get(scheme: string): DriverDefinition | undefined {
    return this.#byScheme.get(scheme.toLowerCase());
  }

  /** The driver for a DSN; throws a config error naming the scheme when none is registered. */
  resolve(dsn: string): DriverDefinition {
    const scheme = dsnScheme(dsn);
    const def = this.#byScheme.get(scheme);
    if (!def) {
      const known = [...this.#byScheme.keys()].sort().join(", ") || "none";
      throw new DbHealthError(
        "config",
        `no driver for "${describeDsn(dsn)}" (scheme "${scheme}"); registered schemes: ${known}`,
      );
    }
    return def;
  }

  /** Every registered driver, once each. */
  list(): DriverDefinition[] {
    return [...new Set(this.#byScheme.values())];
  }
}

// Two copies of one package produce equal but distinct definition objects; without a package
// name nothing proves two definitions are the same driver, so only identity counts.
function sameDriver(a: DriverDefinition, b: DriverDefinition): boolean {
  return a === b || (a.packageName !== undefined && a.name === b.name && a.packageName === b.packageName);
}

function label(def: DriverDefinition): string {
  return def.packageName ? `"${def.name}" from ${def.packageName}` : `"${def.name}"`;
}

function validateDefinition(def: DriverDefinition): void {
  const problems: string[] = [];
  if (!def || typeof def !== "object") throw new DbHealthError("contract", "driver definition must be an object");
  if (typeof def.name !== "string" || !/^[a-z][a-z0-9_-]*$/.test(def.name)) problems.push("name must be a lower-case identifier");
  if (!Array.isArray(def.schemes) || def.schemes.length === 0) problems.push("schemes must list at least one DSN scheme");
  else if (def.schemes.some((s) => typeof s !== "string" || !/^[a-z][a-z0-9+.-]*$/i.test(s))) problems.push("schemes must be URL scheme names");
  if (typeof def.createAdapter !== "function") problems.push("createAdapter must be a function");
  if (problems.length > 0) {
    throw new DbHealthError("contract", `invalid driver definition ${label(def)}: ${problems.join("; ")}`);
  }
}

type GlobalWithRegistry = typeof globalThis & { [REGISTRY_KEY]?: DriverRegistry };

/** The process-wide registry. */
export const driverRegistry: DriverRegistry = ((globalThis as GlobalWithRegistry)[REGISTRY_KEY] ??= new DriverRegistry());

/**
 * Registers a driver in the process-wide registry. Driver packages call this from their entry
 * module, so importing the package is enough to make its schemes available.
 *
 * @example
 * ```ts
 * registerDriver({ name: "duck", schemes: ["duckdb"], createAdapter: (t) => createDuckAdapter(t) });
 * ```
 */
export function registerDriver(definition: DriverDefinition): void {
  driverRegistry.register(definition);
}
