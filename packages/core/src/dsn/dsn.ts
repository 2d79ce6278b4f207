/**
 * DSN parsing for every dialect db-health accepts: URLs (with Go's mysql tcp()/unix() addresses),
 * SQLite URIs (file:, sqlite:, sqlite3:), plain SQLite paths, ":memory:" and SQL Server ADO
 * strings. Hand-written rather than `new URL()`: real DSNs carry unencoded "@", "/" and "\" that
 * WHATWG URL parsing rejects or reinterprets. The dialect parsers live beside
 * it: url.ts, ado.ts, sqlite.ts, with unparsed.ts for what none of them accepts.
 */
import { ADO_FIRST_KEYS, parseAdo } from "./ado.js";
import { EXAMPLE, clip, configError, hideUnparsed, type Ctx } from "./context.js";
import { SQLITE_SCHEMES, parseSqliteUri } from "./sqlite.js";
import type { ParsedDsn } from "./parsed-dsn.js";
import { parseUrl } from "./url.js";
import { secretValueSpans } from "./unparsed.js";
import type { Span } from "../redact/spans.js";
import { REDACTED, redact, replaceSpans } from "../redact/redact.js";

export type { DsnForm, ParsedDsn } from "./parsed-dsn.js";

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** A parse plus where the secrets sit in the input, so that redactDsn hides exactly them. */
interface Located {
  parsed: ParsedDsn;
  /** Offsets into the original (untrimmed) input. */
  spans: Span[];
  /** The password raw and decoded, for dsnSecrets(). */
  secrets: string[];
}

/**
 * Scheme of a DSN without a full parse (cheap; for picking a driver), lower-cased: `file` for
 * plain paths and ":memory:", `sqlserver` for ADO strings. Throws DbHealthError("config") for an
 * empty string and for forms no driver accepts (libpq key=value, scheme-less Go mysql).
 *
 * @example
 * ```ts
 * dsnScheme("mysql://app:pw@tcp(db:3306)/shop"); // "mysql"
 * dsnScheme("./data/app.db");                    // "file"
 * ```
 */
export function dsnScheme(dsn: string): string {
  return classify(dsn).scheme;
}

/**
 * Parses any supported DSN. Throws DbHealthError("config") naming what is wrong and how to fix
 * it; the message shows the DSN redacted, never the password. A SQLite DSN must name a file
 * unless it asks for memory (`:memory:`, `file::memory:`, `mode=memory`): opening an empty path
 * would give a fresh temporary database and report a missing file as healthy.
 *
 * @example
 * ```ts
 * const { host, port, database } = parseDsn("postgres://app:pw@db:5432/orders");
 * // host "db", port 5432, database "orders"
 * ```
 */
export function parseDsn(dsn: string): ParsedDsn {
  return locate(dsn).parsed;
}

/**
 * The DSN with the password (and any other secret parameter) replaced by `***`, the same string
 * otherwise. Never throws: an unparseable DSN goes through the generic {@link redact}.
 *
 * @example
 * ```ts
 * redactDsn("mysql://root:pw@tcp(db:3306)/shop"); // "mysql://root:***@tcp(db:3306)/shop"
 * ```
 */
export function redactDsn(dsn: string): string {
  try {
    const text = String(dsn);
    try {
      return redact(replaceSpans(text, [...locate(text).spans, ...secretValueSpans(text)]));
    } catch {
      return hideUnparsed(text);
    }
  } catch {
    return REDACTED;
  }
}

/**
 * A short safe label for logs: scheme, user, host, port and database, never the password or any
 * query parameter. Never throws; an invalid DSN gives its redacted text up to the first "?"/";".
 *
 * @example
 * ```ts
 * describeDsn("postgres://app:pw@db.example:5432/orders?sslmode=require");
 * // "postgres://app@db.example:5432/orders"
 * describeDsn("file:/var/lib/app.db?mode=ro"); // "sqlite:/var/lib/app.db"
 * ```
 */
export function describeDsn(dsn: string): string {
  try {
    return redact(label(parseDsn(dsn)));
  } catch {
    try {
      const head = hideUnparsed(String(dsn).trim()).split(/[?#;]/, 1)[0] ?? "";
      return clip(head) || "<invalid dsn>";
    } catch {
      return "<invalid dsn>";
    }
  }
}

/**
 * Literal secrets of a DSN (the password raw and decoded), to feed {@link createRedactor} so that
 * a client library echoing the password in any form is still redacted.
 *
 * @example
 * ```ts
 * const clean = createRedactor(dsnSecrets(config.dsn));
 * ```
 */
export function dsnSecrets(dsn: string): string[] {
  let found: string[];
  try {
    // The parsed password, and what a password key's value may run to (see secretValueSpans).
    found = [...locate(dsn).secrets, ...hiddenPieces(dsn, replaceSpans(dsn, secretValueSpans(dsn)))];
  } catch {
    found = dsnSecretsOf(String(dsn));
  }
  return [...new Set(found)].filter((s) => s !== "");
}

// Which parser a DSN needs. A string becomes a SQLite target only when it is clearly a path or
// a file:/sqlite: URI: a typo (a forgotten scheme, "host:port", a pasted key=value string) must be
// a configuration error, never a SQLite file created on the spot and reported as up. Errors here
// concern the whole string, so they show it only through hideUnparsed().
function classify(input: string): { text: string; scheme: string; kind: "memory" | "path" | "url" | "ado" } {
  if (typeof input !== "string") throw configError(`the DSN must be a string, got ${typeof input}`);
  const text = input.trim();
  if (text === "") {
    throw configError(`the DSN is empty: set a URL such as ${EXAMPLE}, a SQLite file path, or an ADO string (Server=…;Database=…)`);
  }
  const bad = refuse(text);
  if (bad !== undefined) throw configError(`${bad.shown ? `unsupported DSN "${shown(text)}"` : "unsupported DSN"}: ${bad.problem}`, dsnSecretsOf(text));
  if (text === ":memory:") return { text, scheme: "file", kind: "memory" };
  const scheme = SCHEME.exec(text)?.[1];
  // C:\data\app.db is a Windows path, not a URL with scheme "c".
  if (scheme !== undefined && !WINDOWS_PATH.test(text)) return { text, scheme: scheme.toLowerCase(), kind: "url" };
  const firstKey = /^([A-Za-z][A-Za-z0-9 _]*?)\s*=/.exec(text)?.[1];
  if (firstKey !== undefined) {
    if (text.includes(";") || ADO_FIRST_KEYS.has(firstKey.toLowerCase())) return { text, scheme: "sqlserver", kind: "ado" };
    throw configError(
      `unsupported DSN "${shown(text)}": key=value strings are only read in SQL Server's ADO form (Server=…;Database=…;); for PostgreSQL write a URL such as ${EXAMPLE}`,
      dsnSecretsOf(text),
    );
  }
  const notPath = notAPath(text);
  if (notPath !== undefined) throw configError(`unsupported DSN "${shown(text)}": ${notPath}`, dsnSecretsOf(text));
  return { text, scheme: "file", kind: "path" };
}

const WINDOWS_PATH = /^[A-Za-z]:[\\/]/;
// What a plain path (no file: scheme) may not contain: these make it a URL, a key=value string,
// a query or a quoted paste. A file whose name holds one is still reachable as file:PATH.
const NOT_IN_PATH = /[@:;=?#"'`(),<>|*{}]/;
// File name endings that say "SQLite file" when there is no directory to say "path".
const SQLITE_EXTENSION = /\.(?:db|db3|sqlite|sqlite3|s3db|sl3|sdb)$/i;
const PATH_HINT = "for a SQLite file write a path (./app.db, /var/lib/app.db) or file:PATH";

/** Mistakes any DSN may hold, whatever its form: quotes kept by a shell or YAML, control characters, a mistyped scheme. */
function refuse(text: string): { problem: string; shown: boolean } | undefined {
  const control = /[\u0000-\u001f\u007f\u0080-\u009f\u2028\u2029]/.exec(text);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    return { problem: `it contains a control character (U+${code} at position ${control.index + 1}); remove it (a pasted line break or tab?)`, shown: false };
  }
  const quote = /^["'`]/.exec(text)?.[0];
  if (quote !== undefined) {
    return { problem: `it starts with ${quote}: remove the quotes around the DSN (a shell or YAML quote written twice, or an env file that keeps quotes)`, shown: true };
  }
  const typo = /^([A-Za-z][A-Za-z0-9+.-]*)(\/\/|:\/(?!\/)|:\\|;\/\/)/.exec(text);
  // file:/abs/path is a SQLite URI, C:/data a Windows path: only other schemes need "//".
  const sqliteSingleSlash = typo?.[2] === ":/" && SQLITE_SCHEMES.has(typo[1]!.toLowerCase());
  if (typo && !sqliteSingleSlash && !WINDOWS_PATH.test(text)) {
    return { problem: `the scheme is mistyped: did you mean ${typo[1]!.toLowerCase()}://…? A URL DSN starts with scheme://, e.g. ${EXAMPLE}`, shown: true };
  }
  const hostPort = /^([^/\\:@]*):\d+(?:\/|$)/.exec(text);
  if ((hostPort && !SQLITE_SCHEMES.has(hostPort[1]!.toLowerCase())) || /^\[[0-9A-Fa-f:.]+\]:\d+/.test(text)) {
    const address = text.split("/")[0];
    return { problem: `it looks like host:port but has no scheme: write a URL such as postgres://${address}/db or mysql://user@tcp(${address})/db`, shown: true };
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(text) && !WINDOWS_PATH.test(text) && /["'`]$/.test(text)) {
    return { problem: `it ends with a quote: remove the quotes around the DSN`, shown: true };
  }
  if (!text.includes("://") && /@(?:tcp[46]?|unix|udp)\(/i.test(text)) {
    return { problem: `Go-style MySQL DSNs need the scheme, e.g. mysql://user@tcp(host:3306)/db`, shown: true };
  }
  return undefined;
}

/** Why a string without a scheme is not clearly a SQLite file path, or undefined when it is. */
function notAPath(text: string): string | undefined {
  if (text.includes("@")) return `it looks like user@host but has no scheme: write a URL such as ${EXAMPLE}; ${PATH_HINT}`;
  const bad = NOT_IN_PATH.exec(WINDOWS_PATH.test(text) ? text.slice(2) : text);
  if (bad) return `a plain path cannot contain ${JSON.stringify(bad[0])}: ${PATH_HINT}, or a URL such as ${EXAMPLE}`;
  if (text.startsWith("~")) return `"~" is not expanded here (only a shell does that): write the full path`;
  // "db.example.com/orders", "127.0.0.1/test", "localhost/shop": a host and a database without
  // a scheme, unless the name ends like a SQLite file or the path says it is relative (./).
  const first = /^([^/\\]+)[/\\]/.exec(text)?.[1];
  if (first !== undefined && !SQLITE_EXTENSION.test(text) && looksLikeHost(first)) {
    return `it looks like host/database but has no scheme: write a URL such as postgres://${first}/db, or ./${text} for a relative path to a SQLite file`;
  }
  if (!/[/\\]/.test(text) && !SQLITE_EXTENSION.test(text)) {
    return `it has no scheme and is not clearly a file path: write a URL such as ${EXAMPLE}, or ${PATH_HINT} (a name without a directory needs a SQLite extension such as .db)`;
  }
  return undefined;
}

// A host name with a domain (db.example.com), an IPv4 address or localhost; not "data" or "var".
function looksLikeHost(segment: string): boolean {
  return segment.toLowerCase() === "localhost" || /^\d{1,3}(?:\.\d{1,3}){3}$/.test(segment) || /^(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}$/.test(segment);
}

/** A DSN that did not classify, safe to show in a message. */
function shown(text: string): string {
  return clip(hideUnparsed(text));
}

/**
 * Literal secrets of a DSN that did not parse: what {@link hideUnparsed} hides in it, and what
 * the generic rules alone hide (shorter pieces, which also match where the text is split
 * differently, e.g. an ADO value cut at its ";").
 */
function dsnSecretsOf(text: string): string[] {
  return [...hiddenPieces(text, hideUnparsed(text)), ...hiddenPieces(text, redact(text))];
}

// The pieces of `text` that `hidden` replaced with "***".
function hiddenPieces(text: string, hidden: string): string[] {
  const pieces = hidden.split(REDACTED);
  const found: string[] = [];
  let pos = pieces[0]?.length ?? 0;
  for (let n = 1; n < pieces.length; n++) {
    const piece = pieces[n] ?? "";
    const next = n === pieces.length - 1 ? text.length - piece.length : text.indexOf(piece, pos + 1);
    if (next <= pos) break;
    found.push(text.slice(pos, next));
    pos = next + piece.length;
  }
  return found;
}

function locate(dsn: string): Located {
  const { text, scheme, kind } = classify(dsn);
  const ctx: Ctx = { text, offset: dsn.length - dsn.trimStart().length, ado: kind === "ado", spans: [], secrets: [] };
  let parsed: ParsedDsn;
  if (kind === "memory") parsed = { scheme, form: "memory", database: ":memory:", params: {} };
  else if (kind === "path") parsed = { scheme, form: "path", database: text, params: {} };
  else if (kind === "ado") parsed = parseAdo(ctx);
  else if (SQLITE_SCHEMES.has(scheme)) parsed = parseSqliteUri(ctx, scheme);
  else parsed = parseUrl(ctx, scheme);
  return { parsed, spans: ctx.spans.map(([s, e]) => [s + ctx.offset, e + ctx.offset] as const), secrets: ctx.secrets };
}

function label(p: ParsedDsn): string {
  if (SQLITE_SCHEMES.has(p.scheme)) return `sqlite:${p.database ?? ""}`;
  const host = p.host === undefined ? "" : p.host.includes(":") ? `[${p.host}]` : p.host;
  const where = p.socket !== undefined ? `unix(${p.socket})` : `${host}${p.instance ? `\\${p.instance}` : ""}${p.port ? `:${p.port}` : ""}`;
  return `${p.scheme}://${p.user ? `${p.user}@` : ""}${where}${p.database ? `/${p.database}` : ""}`;
}
