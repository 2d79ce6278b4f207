/**
 * DSN parsing for every dialect db-health accepts: URLs (with Go's mysql tcp()/unix() addresses),
 * SQLite URIs (file:, sqlite:, sqlite3:), plain SQLite paths, ":memory:" and SQL Server ADO
 * strings. Hand-written rather than `new URL()`: real DSNs carry unencoded "@", "/" and "\" that
 * WHATWG URL parsing rejects or reinterprets. The dialect parsers live in _internal/dsn-*.ts.
 */
import { ADO_FIRST_KEYS, parseAdo } from "./_internal/dsn-ado.js";
import { EXAMPLE, clip, configError, type Ctx } from "./_internal/dsn-context.js";
import { SQLITE_SCHEMES, parseSqliteUri } from "./_internal/dsn-sqlite.js";
import { parseUrl } from "./_internal/dsn-url.js";
import type { Span } from "./_internal/spans.js";
import { REDACTED, redact, replaceSpans } from "./redact.js";

/** Which syntax a DSN was written in. */
export type DsnForm = "url" | "go-mysql" | "sqlite-file" | "path" | "memory" | "ado";

/** A DSN broken into its parts. Values are decoded; the password is never in `params`. */
export interface ParsedDsn {
  /** Lower-cased scheme: postgres, postgresql, mysql, mariadb, file, sqlite, sqlite3, sqlserver, mssql or any other URL scheme; plain paths and ":memory:" give "file", ADO strings "sqlserver". */
  scheme: string;
  form: DsnForm;
  /** Percent-decoded user name. */
  user?: string;
  /** Percent-decoded (or ADO-unquoted) password. */
  password?: string;
  /** Host name or address; IPv6 without brackets ("::1"). */
  host?: string;
  port?: number;
  /** Unix socket path: mysql unix(/path), or a postgres host starting with "/". */
  socket?: string;
  /** SQL Server named instance (host\instance). */
  instance?: string;
  /** Database name; for SQLite the file path or ":memory:". */
  database?: string;
  /** Decoded query parameters or ADO pairs, keys as written, password keys removed. */
  params: Record<string, string>;
}

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
      return redact(replaceSpans(text, locate(text).spans));
    } catch {
      return redact(text);
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
      const head = redact(String(dsn).trim()).split(/[?#;]/, 1)[0] ?? "";
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
    found = locate(dsn).secrets;
  } catch {
    found = removedByRedaction(String(dsn));
  }
  return [...new Set(found)].filter((s) => s !== "");
}

// Which parser a DSN needs. Errors here concern the whole string, so they show no part of it
// except through redact().
function classify(input: string): { text: string; scheme: string; kind: "memory" | "path" | "url" | "ado" } {
  if (typeof input !== "string") throw configError(`the DSN must be a string, got ${typeof input}`);
  const text = input.trim();
  if (text === "") {
    throw configError(`the DSN is empty: set a URL such as ${EXAMPLE}, a SQLite file path, or an ADO string (Server=…;Database=…)`);
  }
  if (text === ":memory:") return { text, scheme: "file", kind: "memory" };
  if (/^[^\s/]*@(?:tcp[46]?|unix)\(/.test(text)) {
    throw configError(`unsupported DSN "${clip(redact(text))}": Go-style MySQL DSNs need the scheme, e.g. mysql://user@tcp(host:3306)/db`);
  }
  const scheme = SCHEME.exec(text)?.[1];
  // C:\data\app.db is a Windows path, not a URL with scheme "c".
  if (scheme !== undefined && !/^[A-Za-z]:[\\/]/.test(text)) return { text, scheme: scheme.toLowerCase(), kind: "url" };
  const firstKey = /^([A-Za-z][A-Za-z0-9 _]*?)\s*=/.exec(text)?.[1];
  if (firstKey !== undefined) {
    if (text.includes(";") || ADO_FIRST_KEYS.has(firstKey.toLowerCase())) return { text, scheme: "sqlserver", kind: "ado" };
    throw configError(
      `unsupported DSN "${clip(redact(text))}": key=value strings are only read in SQL Server's ADO form (Server=…;Database=…;); for PostgreSQL write a URL such as ${EXAMPLE}`,
    );
  }
  return { text, scheme: "file", kind: "path" };
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

// For a DSN that does not parse: whatever redact() replaced is what a redactor should know.
function removedByRedaction(text: string): string[] {
  const pieces = redact(text).split(REDACTED);
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
