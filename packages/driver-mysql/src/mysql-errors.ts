import type { ClassifiedError, ErrorKind } from "@alfred/db-health-core";

// Server error numbers (MySQL and MariaDB share these) in the terms a health report acts on.
const ERRNO_KINDS: Record<number, ErrorKind> = {
  1045: "auth", // access denied (wrong password)
  1044: "auth", // access denied to the database
  1698: "auth", // access denied (auth plugin)
  1049: "connect", // unknown database
  1040: "connect", // too many connections
  1053: "connect", // server shutdown in progress
  3159: "connect", // insecure transport (require_secure_transport)
  1142: "permission", // command denied (CREATE, INSERT…)
  1227: "permission",
  1205: "timeout", // innodb_lock_wait_timeout
  1969: "timeout", // MariaDB max_statement_time
  3024: "timeout", // MySQL max_execution_time
  1317: "timeout", // query interrupted (KILL QUERY)
  1290: "readonly", // --read-only
  1792: "readonly", // read-only transaction
  1836: "readonly", // super_read_only
};
const CONNECT_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "ENOENT", "PROTOCOL_CONNECTION_LOST", "HANDSHAKE_NO_SSL_SUPPORT", "HANDSHAKE_SSL_ERROR"]);

/**
 * The MySQL/MariaDB driver's error hook: the kind of a mysql2 or socket error, its message with
 * the server's error number (`Access denied for user 'app'@'localhost' (ER_ACCESS_DENIED_ERROR 1045)`),
 * and whether the health table is missing (1146). In a custom check (phase `check`), a statement
 * the read-only transaction refused (1792) says so: `a check must not write: …`. Core redacts
 * and wraps it.
 *
 * @example
 * ```ts
 * classifyMysqlError(Object.assign(new Error("Table 'test._health_check' doesn't exist"), { errno: 1146 })); // { tableMissing: true, … }
 * ```
 */
export function classifyMysqlError(err: unknown, phase?: string): ClassifiedError {
  const e = (err ?? {}) as { code?: unknown; errno?: unknown; message?: unknown };
  const errno = typeof e.errno === "number" ? e.errno : undefined;
  const code = typeof e.code === "string" ? e.code : undefined;
  const kind = (errno !== undefined && ERRNO_KINDS[errno]) || (code && CONNECT_CODES.has(code) ? "connect" : undefined);
  const message = err instanceof Error ? err.message || err.name : String(err);
  const tag = [code, errno !== undefined && errno > 0 ? String(errno) : undefined].filter(Boolean).join(" ");
  const suffix = tag && !message.includes(tag) ? ` (${tag})` : "";
  const prefix = phase === "check" && errno === 1792 ? "a check must not write: " : "";
  return { ...(kind ? { kind } : {}), message: `${prefix}${message}${suffix}`, tableMissing: errno === 1146 };
}
