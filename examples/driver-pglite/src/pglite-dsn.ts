import { DbHealthError, type ParsedDsn } from "@alfred/db-health-core";

/** PGlite's own name for a database that lives in memory only. */
export const MEMORY = "memory://";

/**
 * Where a `pglite:` DSN keeps its data: `pglite:///var/lib/app/pgdata` is a data directory
 * (absolute path), `pglite://memory` an in-memory database shared by this process. There is no
 * host, user or password: PGlite runs inside this process.
 *
 * @example
 * ```ts
 * pgliteDataDir(parseDsn("pglite:///var/lib/app/pgdata")); // "/var/lib/app/pgdata"
 * pgliteDataDir(parseDsn("pglite://memory"));             // "memory://"
 * ```
 */
export function pgliteDataDir(dsn: ParsedDsn): string {
  const problems: string[] = [];
  if (dsn.user !== undefined || dsn.password !== undefined) problems.push("PGlite has no users: remove the user and password");
  if (dsn.port !== undefined) problems.push("PGlite has no port: remove it");
  if (dsn.host !== undefined && dsn.host !== "memory") problems.push(`host "${dsn.host}" is not supported: use pglite:///absolute/data/dir or pglite://memory`);
  if (dsn.host === "memory" && dsn.database) problems.push("pglite://memory takes no path");
  if (dsn.host === undefined && !dsn.database) problems.push("name a data directory: pglite:///absolute/data/dir, or use pglite://memory");
  for (const key of Object.keys(dsn.params)) problems.push(`unknown parameter ${key}`);
  if (problems.length > 0) throw new DbHealthError("config", `PGlite DSN: ${problems.join("; ")}`, { driver: "pglite" });
  return dsn.host === "memory" ? MEMORY : `/${dsn.database}`;
}
