/**
 * The `application_name` the driver gives its connections, derived the way the driver derives
 * it (this package's package.json version, as src/definition.ts reads it), so tests that look
 * backends up in `pg_stat_activity` follow a version bump instead of pinning `1.0.0`.
 * Test-only (excluded from the build).
 */
import { createRequire } from "node:module";

/** This package's version, as the driver passes it to the adapter. */
export const PACKAGE_VERSION: string = (createRequire(import.meta.url)("../../package.json") as { version: string }).version;

/**
 * `db-health/<version> <probeId>`, cut to the 63 bytes PostgreSQL keeps of an application_name.
 *
 * @example
 * ```ts
 * await admin("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [appName("my-probe")]);
 * ```
 */
export function appName(probeId: string): string {
  let name = `db-health/${PACKAGE_VERSION} ${probeId}`;
  while (Buffer.byteLength(name) > 63) name = name.slice(0, -1);
  return name;
}
