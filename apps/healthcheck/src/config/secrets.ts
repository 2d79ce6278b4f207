/**
 * Secrets from files (Docker and Kubernetes secrets are mounted as files) and splicing a
 * password into a DSN, so that a DSN kept in a config file or variable never has to hold it.
 */
import { parseDsn } from "@alfred/db-health-core";
import type { Problems } from "./problems.js";
import { readFileSyncLimited, UnreadableFile } from "@alfred/db-health-core";
import { FILE_LIMITS } from "./limits.js";

/**
 * Reads a secret file: a regular file of at most 64 KiB (a FIFO, `/dev/zero` or a directory is
 * refused without blocking, see core's readFileSyncLimited). Only one trailing newline is dropped: `echo pw >
 * file` adds it, while other whitespace may be part of the password.
 *
 * @param isSecret the whole content is a secret (a password); false for a DSN, whose password
 * alone is remembered for redaction once it is parsed.
 * @returns the content, or `undefined` after adding a problem naming `where`, the file and what
 * is wrong with it (never its content).
 * @example
 * ```ts
 * const pw = readSecret("/run/secrets/db-password", "POSTGRES_PASSWORD_FILE", problems);
 * ```
 */
export function readSecret(path: string, where: string, problems: Problems, isSecret = true): string | undefined {
  try {
    const value = readFileSyncLimited(path, FILE_LIMITS.secret).toString("utf8").replace(/\r?\n$/, "");
    if (isSecret) problems.addSecrets([value]);
    return value;
  } catch (err) {
    if (!(err instanceof UnreadableFile)) throw err;
    problems.add(where, err.message);
    return undefined;
  }
}

/**
 * A secret-bearing variable `NAME` or its Docker-secret form `NAME_FILE` (a path to read).
 * Setting both is a problem, as in the official database images. Empty values count as unset.
 * `isSecret` as for {@link readSecret}.
 *
 * @example
 * ```ts
 * envSecret({ POSTGRES_PASSWORD_FILE: "/run/secrets/pw" }, "POSTGRES_PASSWORD", problems);
 * // { value: "<file content>", where: "POSTGRES_PASSWORD_FILE" }
 * ```
 */
export function envSecret(env: NodeJS.ProcessEnv, name: string, problems: Problems, isSecret = true): { value: string; where: string } | undefined {
  const direct = env[name] || undefined;
  const file = env[`${name}_FILE`] || undefined;
  if (direct !== undefined && file !== undefined) {
    problems.add(`${name}_FILE`, `${name} is set too; set only one of them`);
    return undefined;
  }
  if (direct !== undefined) {
    if (isSecret) problems.addSecrets([direct]);
    return { value: direct, where: name };
  }
  if (file === undefined) return undefined;
  const value = readSecret(file, `${name}_FILE`, problems, isSecret);
  return value === undefined ? undefined : { value, where: `${name}_FILE` };
}

/**
 * Percent-encodes a URL userinfo part, including the characters `encodeURIComponent` leaves
 * alone but that end a Go-style `tcp(…)` address or read as sub-delimiters.
 *
 * @example
 * ```ts
 * encodeUserinfo("p@ss(1)"); // "p%40ss%281%29"
 * ```
 */
export function encodeUserinfo(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Puts `password` into a DSN that has none: URL forms get it percent-encoded after the user,
 * SQL Server ADO strings get a quoted `Password=` pair. SQLite DSNs take no password.
 *
 * @returns the new DSN, or a problem message (which never contains the password).
 * @example
 * ```ts
 * splicePassword("postgres://app@db:5432/app", "p@ss"); // { dsn: "postgres://app:p%40ss@db:5432/app" }
 * ```
 */
export function splicePassword(dsn: string, password: string): { dsn: string } | { problem: string } {
  let parsed;
  try {
    parsed = parseDsn(dsn);
  } catch {
    return { problem: "cannot add the password: the DSN does not parse (see its own problem)" };
  }
  if (parsed.password !== undefined) return { problem: "the DSN has a password already; remove it or drop passwordFile" };
  let spliced: string | undefined;
  if (parsed.form === "ado") {
    const sep = dsn.trimEnd().endsWith(";") ? "" : ";";
    spliced = `${dsn.trimEnd()}${sep}Password="${password.replace(/"/g, '""')}";`;
  } else if (parsed.form === "url" || parsed.form === "go-mysql") {
    spliced = spliceUrl(dsn, parsed.user ?? "", encodeUserinfo(password));
  } else {
    return { problem: `a ${parsed.scheme} DSN takes no password` };
  }
  // Trust only a splice that parses back to exactly this password.
  try {
    if (spliced !== undefined && parsed.user === parseDsn(spliced).user && parseDsn(spliced).password === password) return { dsn: spliced };
  } catch {
    // fall through to the problem below
  }
  return { problem: "cannot add the password to this DSN; write it as scheme://user@host/db" };
}

// After "scheme://", the user as written (maybe percent-encoded) ends at the "@" whose prefix
// decodes to the parsed user; no user means "://" is followed directly by the address.
function spliceUrl(dsn: string, user: string, encoded: string): string | undefined {
  const start = dsn.indexOf("://") + 3;
  if (start < 3) return undefined;
  if (user === "") return `${dsn.slice(0, start)}:${encoded}@${dsn.slice(start).replace(/^@/, "")}`;
  for (let at = dsn.indexOf("@", start); at !== -1; at = dsn.indexOf("@", at + 1)) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(dsn.slice(start, at));
    } catch {
      continue;
    }
    if (decoded === user) return `${dsn.slice(0, at)}:${encoded}${dsn.slice(at)}`;
  }
  return undefined;
}
