/**
 * A discovery module (`modules:` in the YAML file): how to reach a database the scraper names
 * only by address — the engine, the credentials, DSN parameters (TLS…), per-target settings —
 * and what it may reach. Each discovered target's DSN is built here from validated parts only.
 */
import { parseDsn, retarget, type ParsedDsn, type ResolvedTarget, type TargetOptions } from "@alfred/db-health-core";
import { encodeUserinfo } from "../config/secrets.js";
import type { AllowSpec } from "./allow-list.js";
import type { TargetAddress } from "./target-address.js";

/** One module, validated (config/modules.ts reads it from the YAML file). */
export interface DiscoveryModule {
  /** `?module=` value; also the driver's name, so the health table row is `<hostname>/<module>`. */
  name: string;
  /** DSN scheme: `postgres`, `mysql`, `mariadb`, `sqlserver`, or a plugin's. */
  engine: string;
  user?: string;
  /** Read from `passwordFile`; never written inline. */
  password?: string;
  /** Database when the target names none. */
  database?: string;
  /** DSN query parameters (TLS and driver options), never an address, user or password. */
  params: Readonly<Record<string, string>>;
  allow: AllowSpec;
  /** Per-target settings: flags and variables over the module's `settings:` over `defaults:`. */
  settings: Readonly<Omit<TargetOptions, "dsn" | "name">>;
  /**
   * The module resolved once, as a target on a stand-in address it allows: its settings with
   * every default, its name and probe id, its engine's driver. Each discovered target is this
   * plan on its own DSN ({@link moduleTarget}). Set by resolveCli unless it ran without drivers.
   */
  target?: ResolvedTarget;
}

/** Default ports of the built-in engines, for `allow.ports` left out. */
export const DEFAULT_PORTS: Readonly<Record<string, number>> = { postgres: 5432, postgresql: 5432, mysql: 3306, mariadb: 3306, sqlserver: 1433, mssql: 1433 };

/**
 * Parameter names that would name another host, port, database, user or password than the
 * module's and the target's, in any engine's spelling (case-insensitive).
 */
export const IDENTITY_PARAMS: ReadonlySet<string> = new Set([
  "host", "hostaddr", "port", "dbname", "database", "db", "user", "username", "password", "passwd", "passfile", "service", "servicefile",
  "server", "uid", "pwd", "user id", "data source", "initial catalog", "address", "addr", "network address", "socket", "socketpath",
]);

/**
 * The DSN of one discovered target: the module's engine, user and password, the target's host,
 * port and database (else the module's), the module's parameters. It is parsed back and must
 * name exactly those parts, so that nothing in a target (already strictly read) or a parameter
 * can move the connection elsewhere.
 *
 * @throws when the DSN does not parse back to those parts (a bug, never a user's input).
 * @example
 * ```ts
 * moduleDsn(pgModule, parseTargetAddress("10.0.0.5:5432/orders") as TargetAddress);
 * // "postgres://db_health:<password>@10.0.0.5:5432/orders?sslmode=verify-full"
 * ```
 */
export function moduleDsn(module: DiscoveryModule, target: TargetAddress): string {
  const dsn = buildDsn(module, target);
  checkParts(parseDsn(dsn), module, target);
  return dsn;
}

/**
 * One discovered target's plan: the module's ({@link DiscoveryModule.target}) on the target's
 * DSN, built and checked as {@link moduleDsn} says, parsed once. Nothing else is validated again.
 *
 * @throws when the module has no plan, or as {@link moduleDsn}.
 * @example
 * ```ts
 * const driver = createDriver(moduleTarget(plan.modules[0]!, parseTargetAddress("10.0.0.5:5432") as TargetAddress));
 * ```
 */
export function moduleTarget(module: DiscoveryModule, target: TargetAddress): ResolvedTarget {
  if (!module.target) throw new Error(`module "${module.name}" was not resolved with its driver`);
  const planned = retarget(module.target, buildDsn(module, target));
  checkParts(planned.dsn, module, target);
  return planned;
}

function buildDsn(module: DiscoveryModule, target: TargetAddress): string {
  const user = module.user === undefined ? "" : encodeUserinfo(module.user);
  const password = module.password === undefined ? "" : `:${encodeUserinfo(module.password)}`;
  const userinfo = user || password ? `${user}${password}@` : "";
  const host = target.kind === "ipv6" ? `[${target.host}]` : target.host;
  const database = target.database ?? module.database;
  const query = new URLSearchParams(module.params).toString();
  return `${module.engine}://${userinfo}${host}:${target.port}${database === undefined ? "" : `/${database}`}${query ? `?${query}` : ""}`;
}

function checkParts(parsed: ParsedDsn, module: DiscoveryModule, target: TargetAddress): void {
  const same =
    parsed.host === target.host &&
    parsed.port === target.port &&
    parsed.database === (target.database ?? module.database) &&
    parsed.user === module.user &&
    (parsed.password || undefined) === (module.password || undefined) &&
    Object.keys(parsed.params).length === Object.keys(module.params).length;
  if (!same) throw new Error(`module "${module.name}": the DSN built for ${target.label} does not name that target`);
}
