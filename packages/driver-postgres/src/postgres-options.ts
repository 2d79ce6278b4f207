import type { ConnectionOptions } from "node:tls";
import { DbHealthError, FILE_LIMITS, errorMessage, readFileSyncLimited, serverLimits, type ParsedDsn, type TargetConfig } from "@alfred/db-health-core";
import type pg from "pg";
import { quoteIdent } from "./sql.js";

/** TLS for one connection attempt: `false` for plain TCP. */
export type SslAttempt = false | ConnectionOptions;

/** Everything the adapter needs to connect, derived once from the DSN and config. */
export interface PostgresSettings {
  /** pg client settings except `ssl`. */
  client: pg.ClientConfig;
  /** TLS settings to try in order (`prefer` tries TLS, then plain; `allow` the reverse). */
  ssl: SslAttempt[];
  /** `sslmode` as given or defaulted (libpq's default is `prefer`). */
  sslmode: SslMode;
  /** Where CancelRequests go. */
  cancel: { host: string; port: number };
  /** The quoted, optionally schema-qualified health table. */
  table: string;
  /** A password that came from the environment, to redact like the DSN's. */
  envPassword?: string;
}

const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
type SslMode = (typeof SSL_MODES)[number];
const PARAMS = new Set(["sslmode", "sslrootcert", "sslcert", "sslkey", "application_name", "connect_timeout", "options", "host", "port", "dbname", "user"]);

/**
 * Checks what the PostgreSQL driver cannot accept in a DSN; every problem in one error.
 *
 * @example
 * ```ts
 * validatePostgresDsn(parseDsn("postgres://app@db/app?sslmode=require")); // ok
 * ```
 */
export function validatePostgresDsn(dsn: ParsedDsn): void {
  const problems: string[] = [];
  for (const key of Object.keys(dsn.params)) if (!PARAMS.has(key)) problems.push(`unknown parameter ${key}`);
  const mode = dsn.params.sslmode;
  if (mode !== undefined && !(SSL_MODES as readonly string[]).includes(mode)) problems.push(`sslmode=${mode} is not one of ${SSL_MODES.join(", ")}`);
  if (dsn.params.port !== undefined && !/^\d{1,5}$/.test(dsn.params.port)) problems.push(`port=${dsn.params.port} is not a port number`);
  const timeout = dsn.params.connect_timeout;
  if (timeout !== undefined && !/^\d+$/.test(timeout)) problems.push(`connect_timeout=${timeout} must be a whole number of seconds`);
  for (const key of ["sslrootcert", "sslcert", "sslkey"] as const) {
    const path = dsn.params[key];
    if (path === undefined) continue;
    try {
      readFileSyncLimited(path, FILE_LIMITS.pem);
    } catch (err) {
      problems.push(`${key}: ${errorMessage(err)}`);
    }
  }
  if ((dsn.params.sslcert === undefined) !== (dsn.params.sslkey === undefined)) problems.push("sslcert and sslkey go together");
  if (problems.length > 0) {
    throw new DbHealthError("config", `PostgreSQL DSN: ${problems.join("; ")} (supported: ${[...PARAMS].join(", ")})`, { driver: "postgres" });
  }
}

/**
 * Derives the pg client settings of a target: libpq parameters, a password from the DSN,
 * `PGPASSWORD` or the file named by `PGPASSWORD_FILE`, an `application_name` a DBA can
 * recognise in `pg_stat_activity`, and server-side timeouts just under the phase deadlines.
 *
 * @example
 * ```ts
 * const s = postgresSettings(parseDsn("postgres://app@db/app?sslmode=require"), config);
 * ```
 */
export function postgresSettings(dsn: ParsedDsn, config: TargetConfig, env: NodeJS.ProcessEnv = process.env, version = "1"): PostgresSettings {
  validatePostgresDsn(dsn);
  // An empty password in the DSN (user:@host) means none was given, as in libpq.
  const envPassword = dsn.password ? undefined : passwordFromEnv(env);
  const host = dsn.socket ?? dsn.host ?? env.PGHOST ?? "localhost";
  const port = dsn.port ?? Number(dsn.params.port ?? env.PGPORT ?? 5432);
  // Core's one policy for server-side limits, in whole milliseconds.
  const limits = serverLimits(config);
  const statementTimeout = Math.max(1, Math.floor(limits.statementMs));
  const lockTimeout = Math.max(1, Math.floor(limits.lockMs));
  const client: pg.ClientConfig = {
    host,
    port,
    application_name: dsn.params.application_name ?? truncate(`db-health/${version} ${config.probeId}`, 63),
    // core already applied connect_timeout (see postgresTimeoutsFromDsn)
    connectionTimeoutMillis: config.connectTimeout,
    statement_timeout: statementTimeout,
    lock_timeout: lockTimeout,
    keepAlive: true,
  };
  const user = dsn.user ?? dsn.params.user;
  if (user !== undefined) client.user = user;
  const password = dsn.password || envPassword;
  if (password !== undefined) client.password = password;
  const database = dsn.database ?? dsn.params.dbname;
  if (database !== undefined) client.database = database;
  if (dsn.params.options !== undefined) client.options = dsn.params.options;
  const sslmode = (dsn.params.sslmode ?? env.PGSSLMODE ?? "prefer") as SslMode;
  if (!SSL_MODES.includes(sslmode)) {
    throw new DbHealthError("config", `PGSSLMODE=${sslmode} is not one of ${SSL_MODES.join(", ")}`, { driver: "postgres" });
  }
  const table = (config.schema ? `${quoteIdent(config.schema)}.` : "") + quoteIdent(config.healthTable);
  return {
    client,
    ssl: sslAttempts(sslmode, dsn.params, host),
    sslmode,
    cancel: { host, port },
    table,
    ...(envPassword === undefined ? {} : { envPassword }),
  };
}

function sslAttempts(mode: SslMode, params: Record<string, string>, host: string): SslAttempt[] {
  if (mode === "disable" || host.startsWith("/")) return [false];
  const tls: ConnectionOptions = { rejectUnauthorized: false };
  if (params.sslrootcert) tls.ca = pemFile("sslrootcert", params.sslrootcert);
  if (params.sslcert && params.sslkey) {
    tls.cert = pemFile("sslcert", params.sslcert);
    tls.key = pemFile("sslkey", params.sslkey);
  }
  // libpq: require verifies the CA when a root certificate is given; verify-full also the name.
  if (mode === "verify-ca" || mode === "verify-full" || (mode === "require" && params.sslrootcert)) tls.rejectUnauthorized = true;
  if (mode === "verify-ca" || (mode === "require" && params.sslrootcert)) tls.checkServerIdentity = () => undefined;
  if (mode === "prefer") return [tls, false];
  if (mode === "allow") return [false, tls];
  return [tls];
}

function passwordFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  if (env.PGPASSWORD) return env.PGPASSWORD;
  if (!env.PGPASSWORD_FILE) return undefined;
  try {
    return readFileSyncLimited(env.PGPASSWORD_FILE, FILE_LIMITS.secret).toString("utf8").replace(/\r?\n$/, "");
  } catch (err) {
    throw new DbHealthError("config", `PGPASSWORD_FILE: ${errorMessage(err)}`, { driver: "postgres" });
  }
}

// A certificate or key named in the DSN: bounded, a regular file (validate() said so already; the
// file may have changed since).
function pemFile(key: string, path: string): Buffer {
  try {
    return readFileSyncLimited(path, FILE_LIMITS.pem);
  } catch (err) {
    throw new DbHealthError("config", `${key}: ${errorMessage(err)}`, { driver: "postgres" });
  }
}

function truncate(text: string, maxBytes: number): string {
  let out = text;
  while (Buffer.byteLength(out) > maxBytes) out = out.slice(0, -1);
  return out;
}

/**
 * libpq's `connect_timeout` (seconds; 0 = none): core uses it when it is shorter than the
 * configured `connectTimeout`.
 *
 * @example
 * ```ts
 * postgresTimeoutsFromDsn(parseDsn("postgres://db/x?connect_timeout=3")); // { connectTimeout: 3000 }
 * ```
 */
export function postgresTimeoutsFromDsn(dsn: ParsedDsn): { connectTimeout?: number } {
  const seconds = Number(dsn.params.connect_timeout ?? 0);
  return seconds > 0 ? { connectTimeout: seconds * 1000 } : {};
}
