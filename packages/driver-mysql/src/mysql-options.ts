import { isIP } from "node:net";
import type { ConnectionOptions as TlsOptions } from "node:tls";
import { DbHealthError, FILE_LIMITS, errorMessage, parseDuration, readFileSyncLimited, type ParsedDsn, type TargetConfig } from "@alfred/db-health-core";
import mysql, { type ConnectionOptions } from "mysql2";
import { quoteIdent } from "./sql.js";

/**
 * TLS for one connection attempt: `false` for plain TCP. mysql2 checks a host name against the
 * certificate only when `verifyIdentity` is set (it ignores `checkServerIdentity`), and checks an
 * IP address as if it were `localhost`: for an IP address, `checkAddress` asks openConnection to
 * check it against the certificate itself, once connected.
 */
export type SslAttempt = false | (TlsOptions & { verifyIdentity?: boolean; checkAddress?: string });

/** Everything the adapter needs to connect, derived once from the DSN and config. */
export interface MysqlSettings {
  /** mysql2 connection options except `ssl`. */
  connection: ConnectionOptions;
  /** TLS settings to try in order (`preferred` tries TLS, then plain). */
  ssl: SslAttempt[];
  /** The backtick-quoted, optionally schema-qualified health table. */
  table: string;
  /** Schema holding the table (null: the connection's database). */
  schema: string | null;
  /** The table's bare name, for information_schema. */
  tableName: string;
  /** A password that came from the environment, to redact like the DSN's. */
  envPassword?: string;
}

const SSL_MODES = ["disabled", "preferred", "required", "verify_ca", "verify_identity"] as const;
type SslMode = (typeof SSL_MODES)[number];
// Go's tls= values, mapped onto MySQL's ssl-mode names.
const GO_TLS: Record<string, SslMode> = { true: "verify_identity", false: "disabled", "skip-verify": "required", preferred: "preferred" };
const TIMEOUTS = { timeout: "connectTimeout", readTimeout: "readTimeout", writeTimeout: "writeTimeout" } as const;
// Go-driver parameters that change how Go decodes values, nothing a health probe does.
const GO_ONLY = new Set(["parseTime", "loc", "collation", "interpolateParams", "allowNativePasswords"]);
// mysql2's own table (what it looks a charset up in when it connects); exported but not typed.
const CHARSETS = (mysql as unknown as { Charsets: Record<string, number> }).Charsets;
const PARAMS = new Set(["tls", "ssl-mode", "ssl_mode", "ssl-ca", "ssl_ca", "charset", ...Object.keys(TIMEOUTS), ...GO_ONLY]);

/**
 * Checks what the MySQL driver cannot accept in a DSN; every problem in one error.
 *
 * @example
 * ```ts
 * validateMysqlDsn(parseDsn("mysql://app@tcp(db:3306)/app?tls=skip-verify")); // ok
 * ```
 */
export function validateMysqlDsn(dsn: ParsedDsn): void {
  const problems: string[] = [];
  for (const key of Object.keys(dsn.params)) if (!PARAMS.has(key)) problems.push(`unknown parameter ${key}`);
  const tlsKeys = ["tls", "ssl-mode", "ssl_mode"].filter((k) => dsn.params[k] !== undefined);
  if (tlsKeys.length > 1) problems.push(`${tlsKeys.join(" and ")} both set TLS: keep one`);
  if (dsn.params["ssl-ca"] !== undefined && dsn.params.ssl_ca !== undefined) problems.push("ssl-ca and ssl_ca are one setting: keep one");
  // mysql2 only fails on an unknown charset when it connects: say so before anything runs.
  for (const charset of dsn.params.charset?.split(",") ?? []) {
    try {
      if (CHARSETS[charset.trim().toUpperCase()] === undefined) throw new Error("unknown");
      // MySQL and MariaDB refuse these as a client character set (ER_WRONG_VALUE_FOR_VAR) on every
      // connect: the probe would be down for good with a garbled message.
      if (/^(?:ucs2|utf16|utf16le|utf32)(?:_|$)/i.test(charset.trim())) {
        problems.push(`charset=${charset} cannot be a client character set (the server refuses ucs2, utf16, utf16le and utf32 there): use utf8mb4`);
      }
    } catch {
      problems.push(`charset=${charset} is not a character set mysql2 knows (e.g. utf8mb4, latin1)`);
    }
  }
  try {
    sslMode(dsn.params);
  } catch (err) {
    problems.push((err as Error).message);
  }
  for (const key of Object.keys(TIMEOUTS)) {
    const value = dsn.params[key];
    if (value === undefined) continue;
    try {
      parseDuration(value);
    } catch {
      problems.push(`${key}=${value} is not a duration such as 5s or 500ms`);
    }
  }
  const ca = dsn.params["ssl-ca"] ?? dsn.params.ssl_ca;
  if (ca !== undefined) {
    try {
      readFileSyncLimited(ca, FILE_LIMITS.pem);
    } catch (err) {
      problems.push(`ssl-ca: ${errorMessage(err)}`);
    }
  }
  if (problems.length > 0) {
    throw new DbHealthError("config", `MySQL DSN: ${problems.join("; ")} (supported: ${[...PARAMS].join(", ")})`, { driver: "mysql" });
  }
}

/**
 * The Go driver's `timeout`, `readTimeout` and `writeTimeout`: core uses each when it is
 * shorter than the configured deadline.
 *
 * @example
 * ```ts
 * mysqlTimeoutsFromDsn(parseDsn("mysql://u@tcp(h:3306)/db?timeout=3s")); // { connectTimeout: 3000 }
 * ```
 */
export function mysqlTimeoutsFromDsn(dsn: ParsedDsn): Partial<Record<"connectTimeout" | "readTimeout" | "writeTimeout", number>> {
  const out: Partial<Record<"connectTimeout" | "readTimeout" | "writeTimeout", number>> = {};
  for (const [param, key] of Object.entries(TIMEOUTS)) {
    const value = dsn.params[param];
    if (value !== undefined) out[key] = parseDuration(value);
  }
  return out;
}

/**
 * Derives the mysql2 settings of a target: host/port or unix socket, TLS per `tls`/`ssl-mode`,
 * a password from the DSN or `MYSQL_PWD`, and connection attributes naming the probe (visible in
 * `performance_schema.session_connect_attrs`).
 *
 * @example
 * ```ts
 * const s = mysqlSettings(parseDsn("mysql://app:pw@tcp(db:3306)/app"), config);
 * ```
 */
export function mysqlSettings(dsn: ParsedDsn, config: TargetConfig, env: NodeJS.ProcessEnv = process.env, version = "1"): MysqlSettings {
  validateMysqlDsn(dsn);
  const database = dsn.database;
  const schema = config.schema ?? null;
  if (!database && !schema) {
    throw new DbHealthError("config", "MySQL DSN names no database: add one (mysql://user@host:3306/db) or set schema, for the health table", { driver: "mysql" });
  }
  const envPassword = dsn.password === undefined && env.MYSQL_PWD ? env.MYSQL_PWD : undefined;
  const connection: ConnectionOptions = {
    connectTimeout: config.connectTimeout,
    connectAttributes: { program_name: `db-health/${version}`, probe_id: config.probeId },
    supportBigNumbers: true,
    dateStrings: true,
    // The probe prepares at most five statements (setup, lag, write, read, prune). mysql2's
    // default cache of 16,000 allocates four 16,000-slot arrays per connection up front: 500 KB
    // of JS heap for each MySQL target (bench/memory.mjs).
    maxPreparedStatements: 16,
  };
  if (dsn.socket) connection.socketPath = dsn.socket;
  else {
    connection.host = dsn.host ?? "localhost";
    connection.port = dsn.port ?? 3306;
  }
  if (dsn.user !== undefined) connection.user = dsn.user;
  const password = dsn.password ?? envPassword;
  if (password !== undefined) connection.password = password;
  if (database) connection.database = database;
  if (dsn.params.charset) connection.charset = dsn.params.charset.split(",")[0]!;
  return {
    connection,
    ssl: dsn.socket ? [false] : sslAttempts(sslMode(dsn.params), dsn.params, dsn.host ?? "localhost"),
    table: (schema ? `${quoteIdent(schema)}.` : "") + quoteIdent(config.healthTable),
    schema,
    tableName: config.healthTable,
    ...(envPassword === undefined ? {} : { envPassword }),
  };
}

function sslMode(params: Record<string, string>): SslMode {
  const raw = params["ssl-mode"] ?? params.ssl_mode;
  if (raw !== undefined) {
    const mode = raw.toLowerCase() as SslMode;
    if (!SSL_MODES.includes(mode)) throw new Error(`ssl-mode=${raw} is not one of ${SSL_MODES.map((m) => m.toUpperCase()).join(", ")}`);
    return mode;
  }
  if (params.tls !== undefined) {
    const mode = GO_TLS[params.tls];
    if (!mode) throw new Error(`tls=${params.tls} is not one of ${Object.keys(GO_TLS).join(", ")}`);
    return mode;
  }
  return "preferred";
}

function sslAttempts(mode: SslMode, params: Record<string, string>, host: string): SslAttempt[] {
  if (mode === "disabled") return [false];
  const caFile = params["ssl-ca"] ?? params.ssl_ca;
  const tls: Exclude<SslAttempt, false> = { rejectUnauthorized: false };
  if (caFile) {
    try {
      tls.ca = readFileSyncLimited(caFile, FILE_LIMITS.pem);
    } catch (err) {
      throw new DbHealthError("config", `ssl-ca: ${errorMessage(err)}`, { driver: "mysql" });
    }
  }
  // As the mysql client does: REQUIRED with a CA verifies it; VERIFY_IDENTITY also the host name.
  const verifyCa = mode === "verify_ca" || (mode === "required" && caFile !== undefined);
  if (verifyCa || mode === "verify_identity") tls.rejectUnauthorized = true;
  if (verifyCa) tls.checkServerIdentity = () => undefined;
  if (mode === "verify_identity") {
    if (isIP(host) === 0) tls.verifyIdentity = true;
    else tls.checkAddress = host;
  }
  return mode === "preferred" ? [tls, false] : [tls];
}
