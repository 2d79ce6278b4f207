import { DbHealthError, redactError, type ErrorKind } from "@alfred/db-health-core";

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
 * Turns a pg or socket error into a redacted {@link DbHealthError} with the SQLSTATE or errno
 * in the message, so a report says `permission denied for schema public (SQLSTATE 42501)`.
 *
 * @example
 * ```ts
 * throw toPostgresError(err, "write", redact);
 * ```
 */
export function toPostgresError(err: unknown, phase: string, redact: (text: string) => string): DbHealthError {
  if (err instanceof DbHealthError) return err;
  const code = typeof (err as { code?: unknown })?.code === "string" ? (err as { code: string }).code : undefined;
  const isSqlState = code !== undefined && /^[0-9A-Z]{5}$/.test(code);
  const kind = (code && (SQLSTATE_KINDS[code] ?? (ERRNO_CONNECT.has(code) ? "connect" : undefined))) || (phase === "connect" ? "connect" : "query");
  if (err instanceof Error && NO_PASSWORD.test(err.message)) {
    return new DbHealthError("auth", "the server asks for a password and none was given (DSN, PGPASSWORD or PGPASSWORD_FILE)", {
      driver: "postgres",
      cause: redactError(err, redact),
    });
  }
  const message = err instanceof Error ? err.message || err.name : String(err);
  const suffix = code === undefined || message.includes(code) ? "" : isSqlState ? ` (SQLSTATE ${code})` : ` (${code})`;
  return new DbHealthError(kind, redact(`${message}${suffix}`), { driver: "postgres", cause: redactError(err, redact) });
}
