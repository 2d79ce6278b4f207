/**
 * The built-in drivers the bundled CLI carries (scripts/bundle.mjs fills this in; tsc's build,
 * the library entry, leaves it empty).
 *
 * A driver package imports `@alfred/db-health-core` by name. Imported from node_modules, it loads
 * core a second time beside the bundle's copy, as ~40 ES modules plus zod's ~100 (~60 ms, more
 * than a whole naive pg probe): so the bundle carries its own copy of each built-in driver, which
 * shares the bundle's core. It is used only when the package installed is that very version
 * (driver-loader.ts checks), so the installed packages still decide what runs: the driver's
 * client library (pg, mysql2, better-sqlite3) is always loaded from the installed package's
 * own dependencies, and any other version is imported from node_modules as before.
 */

/** A driver the bundle carries: its version, and how to load its copy (which self-registers). */
export interface BundledDriver {
  /** The package version the bundled copy was built from. */
  version: string;
  /** Imports the bundled copy. */
  load: () => Promise<unknown>;
}

/** By package name; empty outside the bundle. */
export const BUNDLED_DRIVERS: Readonly<Record<string, BundledDriver>> = {};
