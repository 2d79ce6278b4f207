import { DbHealthError, redactError, type ErrorKind } from "@alfred/db-health-core";

// SQL Server error numbers, and tedious/mssql codes, in the terms a health report acts on.
const NUMBER_KINDS: Record<number, ErrorKind> = {
  18456: "auth", // login failed
  4060: "connect", // cannot open database
  229: "permission", // permission denied on object
  262: "permission", // CREATE TABLE permission denied
  230: "permission",
  1222: "timeout", // lock request time out (SET LOCK_TIMEOUT)
  3906: "readonly", // database is read-only
  976: "readonly", // AG secondary not readable / read-only routing
};
const CODE_KINDS: Record<string, ErrorKind> = {
  ELOGIN: "auth",
  ETIMEOUT: "timeout",
  ECANCEL: "timeout",
  ESOCKET: "connect",
  ECONNCLOSED: "connect",
  EINSTLOOKUP: "connect",
  ENOTOPEN: "connect",
};

/**
 * Turns an mssql/tedious error into a redacted {@link DbHealthError}, with the server's error
 * number or the tedious code in the message (`Login failed for user 'sa'. (ELOGIN 18456)`).
 * Redaction covers the ADO `Password=` form too, inside tedious's own messages.
 *
 * @example
 * ```ts
 * throw toMssqlError(err, "write", redact);
 * ```
 */
export function toMssqlError(err: unknown, phase: string, redact: (text: string) => string): DbHealthError {
  if (err instanceof DbHealthError) return err;
  const e = (err ?? {}) as { code?: unknown; number?: unknown; originalError?: { info?: { number?: unknown } } };
  const number = typeof e.number === "number" ? e.number : typeof e.originalError?.info?.number === "number" ? e.originalError.info.number : undefined;
  const code = typeof e.code === "string" ? e.code : undefined;
  const kind = (number !== undefined && NUMBER_KINDS[number]) || (code && CODE_KINDS[code]) || (phase === "connect" ? "connect" : "query");
  const message = err instanceof Error ? err.message || err.name : String(err);
  const tag = [code, number].filter((x) => x !== undefined).join(" ");
  const suffix = tag && !message.includes(tag) ? ` (${tag})` : "";
  return new DbHealthError(kind, redact(`${message}${suffix}`), { driver: "mssql", cause: redactError(err, redact) });
}
