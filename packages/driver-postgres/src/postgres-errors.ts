import type { ClassifiedError, ErrorKind } from "@alfred/db-health-core";

// SQLSTATE classes and codes that say what went wrong in terms a health report acts on.
const SQLSTATE_KINDS: Record<string, ErrorKind> = {
  "28P01": "auth",
  "28000": "auth",
  "3D000": "connect",
  "42501": "permission",
  "57014": "timeout",
  "55P03": "timeout",
  "25006": "readonly",
  "53300": "connect",
  "57P01": "connect",
  "57P02": "connect",
  "57P03": "connect",
};
const ERRNO_CONNECT = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "ENOENT"]);
// pg's own words when the server asks for a password the DSN does not have (no SQLSTATE: the
// client gives up before answering), e.g. "SASL: SCRAM-SERVER-FIRST-MESSAGE: client password
// must be a string". Said in terms a reader can act on.
const NO_PASSWORD = /client password must be a string|password must be a string/i;

/**
 * The PostgreSQL driver's error hook: the kind of a pg or socket error, its message with the
 * SQLSTATE or errno (`permission denied for schema public (SQLSTATE 42501)`), and whether the
 * health table is missing (`42P01`). In a custom check (phase `check`), a write the read-only
 * transaction refused (25006) says so: `a check must not write: cannot execute INSERT in a
 * read-only transaction (SQLSTATE 25006)`. Core redacts and wraps it.
 *
 * @example
 * ```ts
 * classifyPostgresError(Object.assign(new Error("relation does not exist"), { code: "42P01" })); // { tableMissing: true, … }
 * ```
 */
export function classifyPostgresError(err: unknown, phase?: string): ClassifiedError {
  const code = typeof (err as { code?: unknown })?.code === "string" ? (err as { code: string }).code : undefined;
  if (err instanceof Error && NO_PASSWORD.test(err.message)) {
    return { kind: "auth", message: "the server asks for a password and none was given (DSN, PGPASSWORD or PGPASSWORD_FILE)" };
  }
  const isSqlState = code !== undefined && /^[0-9A-Z]{5}$/.test(code);
  const kind = code === undefined ? undefined : (SQLSTATE_KINDS[code] ?? (ERRNO_CONNECT.has(code) ? "connect" : undefined));
  const message = err instanceof Error ? err.message || err.name : String(err);
  const suffix = code === undefined || message.includes(code) ? "" : isSqlState ? ` (SQLSTATE ${code})` : ` (${code})`;
  const prefix = phase === "check" && code === "25006" ? "a check must not write: " : "";
  return { ...(kind ? { kind } : {}), message: `${prefix}${message}${suffix}`, tableMissing: code === "42P01" };
}
