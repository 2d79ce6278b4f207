import { DbHealthError, type ParsedDsn, type TargetConfig } from "@alfred/db-health-core";
import type { config as MssqlConfig } from "mssql";
import { quoteIdent } from "./sql.js";

/** Everything the adapter needs to connect, derived once from the DSN and config. */
export interface MssqlSettings {
  /** mssql ConnectionPool options (one connection). */
  pool: MssqlConfig;
  /** The bracket-quoted, schema-qualified health table. */
  table: string;
  /** `schema.table` for OBJECT_ID(). */
  objectName: string;
}

// URL query and ADO keys, compared lower-case without spaces. The ADO keys that name the
// server, database and user are read by core's parser; they are listed so they pass.
const KNOWN = new Set([
  "database", "encrypt", "trustservercertificate", "appname", "applicationname", "connecttimeout", "connectiontimeout",
  "server", "datasource", "address", "addr", "networkaddress", "initialcatalog", "userid", "uid", "user",
]);
const TRUE = new Set(["true", "yes", "1", "strict", "mandatory"]);
const FALSE = new Set(["false", "no", "0", "optional"]);

const norm = (key: string): string => key.toLowerCase().replace(/[\s_-]/g, "");
const param = (dsn: ParsedDsn, name: string): string | undefined => {
  for (const [k, v] of Object.entries(dsn.params)) if (norm(k) === name) return v;
  return undefined;
};

/**
 * Checks what the SQL Server driver cannot accept in a DSN; every problem in one error.
 *
 * @example
 * ```ts
 * validateMssqlDsn(parseDsn("sqlserver://sa@db:1433/app?encrypt=true")); // ok
 * ```
 */
export function validateMssqlDsn(dsn: ParsedDsn): void {
  const problems: string[] = [];
  for (const key of Object.keys(dsn.params)) if (!KNOWN.has(norm(key))) problems.push(`unknown parameter ${key}`);
  for (const name of ["encrypt", "trustservercertificate"]) {
    const v = param(dsn, name)?.toLowerCase();
    if (v !== undefined && !TRUE.has(v) && !FALSE.has(v)) problems.push(`${name}=${v} must be true or false`);
  }
  const timeout = param(dsn, "connecttimeout") ?? param(dsn, "connectiontimeout");
  if (timeout !== undefined && !/^\d+$/.test(timeout)) problems.push(`connect timeout=${timeout} must be a whole number of seconds`);
  if (!dsn.host) problems.push("no server: give sqlserver://user@host:1433/db or Server=host;…");
  if (problems.length > 0) throw new DbHealthError("config", `SQL Server DSN: ${problems.join("; ")}`, { driver: "mssql" });
}

/**
 * The ADO `Connect Timeout` (seconds): core uses it when shorter than `connectTimeout`.
 *
 * @example
 * ```ts
 * mssqlTimeoutsFromDsn(parseDsn("Server=db;Connect Timeout=3;")); // { connectTimeout: 3000 }
 * ```
 */
export function mssqlTimeoutsFromDsn(dsn: ParsedDsn): { connectTimeout?: number } {
  const seconds = Number(param(dsn, "connecttimeout") ?? param(dsn, "connectiontimeout") ?? 0);
  return seconds > 0 ? { connectTimeout: seconds * 1000 } : {};
}

/**
 * Derives the mssql settings of a target: server, port or named instance, one pooled
 * connection, `encrypt`/`trustServerCertificate` (encrypted by default, as mssql does), an
 * application name that names the probe in `sys.dm_exec_sessions.program_name`, and a request
 * timeout just under the phase deadlines (tedious then sends an attention to cancel the batch).
 *
 * @example
 * ```ts
 * const s = mssqlSettings(parseDsn("sqlserver://sa:pw@db\\\\SQLEXPRESS/app"), config);
 * ```
 */
export function mssqlSettings(dsn: ParsedDsn, config: TargetConfig, version = "1"): MssqlSettings {
  validateMssqlDsn(dsn);
  const encrypt = param(dsn, "encrypt")?.toLowerCase();
  const trust = param(dsn, "trustservercertificate")?.toLowerCase();
  const appName = param(dsn, "appname") ?? param(dsn, "applicationname") ?? `db-health/${version} ${config.probeId}`.slice(0, 128);
  const pool: MssqlConfig = {
    server: dsn.host!,
    connectionTimeout: config.connectTimeout,
    requestTimeout: Math.max(1, Math.floor(0.9 * Math.max(config.readTimeout, config.writeTimeout))),
    pool: { max: 1, min: 0, idleTimeoutMillis: 2_147_483_647 },
    options: {
      encrypt: encrypt === "strict" ? "strict" : encrypt === undefined ? true : TRUE.has(encrypt),
      trustServerCertificate: trust !== undefined && TRUE.has(trust),
      appName,
      ...(dsn.instance && dsn.port === undefined ? { instanceName: dsn.instance } : {}),
    },
  };
  // Without a named instance the port is known: 1433 unless given.
  if (dsn.port !== undefined || !dsn.instance) pool.port = dsn.port ?? 1433;
  if (dsn.user !== undefined) pool.user = dsn.user;
  if (dsn.password !== undefined) pool.password = dsn.password;
  if (dsn.database !== undefined) pool.database = dsn.database;
  const schema = config.schema ?? "dbo";
  return { pool, table: `${quoteIdent(schema)}.${quoteIdent(config.healthTable)}`, objectName: `${schema}.${config.healthTable}` };
}
