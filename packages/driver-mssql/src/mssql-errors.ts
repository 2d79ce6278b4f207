import type { ClassifiedError, ErrorKind } from "@alfred/db-health-core";

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
 * The SQL Server driver's error hook: the kind of an mssql/tedious error, its message with the
 * server's error number or the tedious code (`Login failed for user 'sa'. (ELOGIN 18456)`), and
 * whether the health table is missing (208, invalid object name). Core redacts it (the ADO
 * `Password=` form too, inside tedious's own messages) and wraps it.
 *
 * @example
 * ```ts
 * classifyMssqlError(Object.assign(new Error("Invalid object name"), { number: 208 })); // { tableMissing: true, … }
 * ```
 */
export function classifyMssqlError(err: unknown): ClassifiedError {
  const number = errorNumber(err);
  const code = typeof (err as { code?: unknown } | undefined)?.code === "string" ? (err as { code: string }).code : undefined;
  const kind = (number !== undefined && NUMBER_KINDS[number]) || (code && CODE_KINDS[code]) || undefined;
  const message = err instanceof Error ? err.message || err.name : String(err);
  const tag = [code, number].filter((x) => x !== undefined).join(" ");
  const suffix = tag && !message.includes(tag) ? ` (${tag})` : "";
  return { ...(kind ? { kind } : {}), message: `${message}${suffix}`, tableMissing: number === 208 };
}

/** The server's error number of an mssql error, on the error or its tedious `originalError`. */
export function errorNumber(err: unknown): number | undefined {
  const e = err as { number?: unknown; originalError?: { info?: { number?: unknown } } } | undefined;
  const n = e?.number ?? e?.originalError?.info?.number;
  return typeof n === "number" ? n : undefined;
}
