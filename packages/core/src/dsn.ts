/**
 * DSN parsing for every dialect db-health accepts: URLs (with Go's mysql tcp()/unix() addresses
 * and SQLite file: URIs), plain SQLite paths, ":memory:" and SQL Server ADO strings.
 * Hand-written rather than `new URL()`: real DSNs carry unencoded "@", "/" and "\" that WHATWG
 * URL parsing rejects or reinterprets.
 */
import { DbHealthError } from "./errors.js";
import { REDACTED, findUserinfoEnd, redact, replaceSpans, type Span } from "./redact.js";

/** Which syntax a DSN was written in. */
export type DsnForm = "url" | "go-mysql" | "sqlite-file" | "path" | "memory" | "ado";

/** A DSN broken into its parts. Values are decoded; the password is never in `params`. */
export interface ParsedDsn {
  /** Lower-cased scheme: postgres, postgresql, mysql, mariadb, file, sqlite, sqlserver, mssql or any other URL scheme; plain paths and ":memory:" give "file", ADO strings "sqlserver". */
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


/** A parse plus where the secrets sit in the input, so that redactDsn hides exactly them. */
interface Located {
  parsed: ParsedDsn;
  /** Offsets into the original (untrimmed) input. */
  spans: Span[];
  /** The password raw and decoded, for dsnSecrets(). */
  secrets: string[];
}

/** What the parser carries around: the trimmed text and the secrets found so far, for errors. */
interface Ctx {
  text: string;
  offset: number;
  ado: boolean;
  spans: Span[];
  secrets: string[];
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const PASSWORD_KEYS = new Set(["password", "pwd", "passwd", "pass"]);
const ADO_SERVER_KEYS = new Set(["server", "data source", "address", "addr", "network address"]);
const ADO_DATABASE_KEYS = new Set(["database", "initial catalog"]);
const ADO_USER_KEYS = new Set(["user id", "uid", "user", "username", "user name"]);
// First keys that only ADO uses, so that "Server=db" alone is recognised.
const ADO_FIRST_KEYS = new Set([...ADO_SERVER_KEYS, ...ADO_DATABASE_KEYS, "user id", "uid", "integrated security", "trusted_connection"]);
// No password in examples: the error message is redacted and would show "***".
const EXAMPLE = "postgres://user@host:5432/db";

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
 * it; the message shows the DSN redacted, never the password.
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
  else if (scheme === "file" || scheme === "sqlite") parsed = parseSqliteUri(ctx, scheme);
  else parsed = parseUrl(ctx, scheme);
  return { parsed, spans: ctx.spans.map(([s, e]) => [s + ctx.offset, e + ctx.offset] as const), secrets: ctx.secrets };
}

function parseUrl(ctx: Ctx, scheme: string): ParsedDsn {
  const { text } = ctx;
  const start = scheme.length + 3;
  if (text.slice(scheme.length + 1, start) !== "//") {
    throw fail(ctx, `expected "${scheme}://" followed by the address, e.g. ${EXAMPLE}`);
  }
  const parsed: ParsedDsn = { scheme, form: "url", params: {} };
  let pos = start;
  const userinfo = locateUserinfo(text, start);
  if (userinfo) {
    const user = decode(text.slice(start, userinfo.userEnd));
    if (user) parsed.user = user;
    if (userinfo.passwordStart !== undefined) setPassword(ctx, parsed, userinfo.passwordStart, userinfo.at, decode);
    pos = userinfo.at + 1;
  }
  const net = scheme === "mysql" || scheme === "mariadb" ? /^([A-Za-z][A-Za-z0-9]*)\(/.exec(text.slice(pos))?.[1] : undefined;
  pos = net === undefined ? parseAuthority(ctx, parsed, pos) : parseGoAddress(ctx, parsed, pos, net);

  const pathEnd = firstOf(text, "?#", pos);
  const database = text.slice(pos, pathEnd).replace(/^\//, "");
  if (database) parsed.database = decode(database);
  if (text[pathEnd] === "?") parseQuery(ctx, parsed, pathEnd + 1, firstOf(text, "#", pathEnd + 1));

  // libpq lets the query name the host: ?host=/var/run/postgresql selects a socket.
  const queryHost = parsed.params["host"];
  if ((scheme === "postgres" || scheme === "postgresql") && queryHost) {
    delete parsed.host;
    delete parsed.socket;
    if (queryHost.startsWith("/")) parsed.socket = queryHost;
    else parsed.host = queryHost;
  }
  parsed.database ??= parsed.params["database"] ?? parsed.params["dbname"];
  if (parsed.database === undefined) delete parsed.database;
  return parsed;
}

/** Where the userinfo ends; the rules live in redact.ts so that both always agree. */
function locateUserinfo(text: string, start: number): { userEnd: number; passwordStart?: number; at: number } | undefined {
  const at = findUserinfoEnd(text, start, text.length);
  if (at === undefined) return undefined;
  const colon = text.indexOf(":", start);
  return colon >= start && colon < at ? { userEnd: colon, passwordStart: colon + 1, at } : { userEnd: at, at };
}

function parseAuthority(ctx: Ctx, parsed: ParsedDsn, pos: number): number {
  const end = firstOf(ctx.text, "/?#", pos);
  const { host, port } = parseHostPort(ctx, pos, end);
  if (port !== undefined) parsed.port = port;
  if (host === undefined) return end;
  if (/\s/.test(host)) throw fail(ctx, `the host contains whitespace; percent-encode it or remove it`);
  if (host.startsWith("/")) {
    parsed.socket = host; // postgres://%2Fvar%2Frun%2Fpostgresql/db
    return end;
  }
  const backslash = host.indexOf("\\");
  if ((parsed.scheme === "sqlserver" || parsed.scheme === "mssql") && backslash >= 0) {
    if (backslash > 0) parsed.host = host.slice(0, backslash);
    const instance = host.slice(backslash + 1);
    if (instance) parsed.instance = instance;
  } else {
    parsed.host = host;
  }
  return end;
}

/** host, host:port, [v6]:port; the host percent-decoded. */
function parseHostPort(ctx: Ctx, from: number, to: number): { host?: string; port?: number } {
  const hostPort = ctx.text.slice(from, to);
  if (hostPort === "") return {};
  let host = hostPort;
  let portFrom = -1;
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    if (close < 0) throw fail(ctx, `unbalanced "[" in the host: write IPv6 addresses as [::1]:5432`);
    host = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) throw fail(ctx, `unexpected text after "]": write IPv6 addresses as [::1]:5432`);
    if (after !== "") portFrom = from + close + 2;
  } else {
    const colon = hostPort.lastIndexOf(":");
    if (colon >= 0) {
      host = hostPort.slice(0, colon);
      portFrom = from + colon + 1;
      if (host.includes(":")) throw fail(ctx, `IPv6 addresses need brackets, e.g. [::1]:5432`);
    }
  }
  const port = portFrom < 0 ? undefined : parsePort(ctx, ctx.text.slice(portFrom, to), [portFrom, to]);
  const decoded = decode(host);
  return { ...(decoded ? { host: decoded } : {}), ...(port === undefined ? {} : { port }) };
}

function parsePort(ctx: Ctx, raw: string, where?: Span): number | undefined {
  if (raw === "") return undefined;
  const port = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (port >= 1 && port <= 65535) return port;
  // A non-numeric "port" is often a password whose "@host" was forgotten: do not echo it.
  const shown = /^\d{1,5}$/.test(raw);
  throw fail(ctx, `the port must be a number from 1 to 65535${shown ? ` (got ${raw})` : ""}`, shown ? undefined : where);
}

/** Go mysql addresses: tcp(host:3306), tcp([::1]:3306), unix(/run/mysqld/mysqld.sock). */
function parseGoAddress(ctx: Ctx, parsed: ParsedDsn, pos: number, net: string): number {
  const { text } = ctx;
  const open = pos + net.length + 1;
  const close = text.indexOf(")", open);
  if (close < 0) throw fail(ctx, `unbalanced "${net}(": close the address with ")", e.g. mysql://user@tcp(host:3306)/db`);
  parsed.form = "go-mysql";
  const kind = net.toLowerCase();
  if (kind === "unix") {
    const socket = decode(text.slice(open, close));
    if (!socket) throw fail(ctx, `unix() needs the socket path, e.g. unix(/run/mysqld/mysqld.sock)`);
    parsed.socket = socket;
  } else if (kind === "tcp" || kind === "tcp4" || kind === "tcp6") {
    const { host, port } = parseHostPort(ctx, open, close);
    if (host !== undefined) parsed.host = host;
    if (port !== undefined) parsed.port = port;
  } else {
    throw fail(ctx, `unknown network "${net}": use tcp(host:port) or unix(/path/to/socket)`);
  }
  const next = text[close + 1];
  if (next !== undefined && !"/?#".includes(next)) throw fail(ctx, `unexpected text after "${net}(…)": expected "/database"`);
  return close + 1;
}

/** file:db.sqlite, file:///abs/x.db, file::memory:, sqlite:///abs.db, sqlite://relative.db. */
function parseSqliteUri(ctx: Ctx, scheme: string): ParsedDsn {
  const { text } = ctx;
  const bodyStart = scheme.length + 1;
  const bodyEnd = firstOf(text, "#", bodyStart);
  const pathEnd = firstOf(text, "?", bodyStart);
  let path = text.slice(bodyStart, Math.min(pathEnd, bodyEnd));
  if (path.startsWith("//")) {
    path = path.slice(2);
    if (/^localhost(?:\/|$)/i.test(path)) path = path.slice("localhost".length);
  }
  path = decode(path);
  if (/^\/[A-Za-z]:[\\/]/.test(path)) path = path.slice(1); // file:///C:/data/app.db
  if (!path) throw fail(ctx, `no database file after "${scheme}:": use e.g. file:data/app.db, file:///var/lib/app.db or file::memory:`);
  const parsed: ParsedDsn = { scheme, form: "sqlite-file", database: path, params: {} };
  if (pathEnd < bodyEnd) parseQuery(ctx, parsed, pathEnd + 1, bodyEnd);
  return parsed;
}

function parseQuery(ctx: Ctx, parsed: ParsedDsn, from: number, to: number): void {
  let i = from;
  while (i <= to) {
    const amp = ctx.text.indexOf("&", i);
    const end = amp < 0 || amp > to ? to : amp;
    const eq = ctx.text.indexOf("=", i);
    const hasValue = eq >= 0 && eq < end;
    const key = decode(ctx.text.slice(i, hasValue ? eq : end));
    const valueStart = hasValue ? eq + 1 : end;
    if (key !== "") {
      if (PASSWORD_KEYS.has(key.toLowerCase())) setPassword(ctx, parsed, valueStart, end, decode);
      else setParam(parsed.params, key, decode(ctx.text.slice(valueStart, end)));
    }
    i = end + 1;
  }
}

/** Server=tcp:db.example,1433;Database=app;User Id=sa;Password={p;ss};… */
function parseAdo(ctx: Ctx): ParsedDsn {
  const parsed: ParsedDsn = { scheme: "sqlserver", form: "ado", params: {} };
  let server: string | undefined;
  for (const { key, value, span } of adoPairs(ctx)) {
    const name = key.toLowerCase().replace(/\s+/g, " ");
    if (PASSWORD_KEYS.has(name)) {
      setPassword(ctx, parsed, span[0], span[1], () => value);
      continue;
    }
    setParam(parsed.params, key, value);
    if (ADO_SERVER_KEYS.has(name)) server = value;
    else if (ADO_DATABASE_KEYS.has(name) && value) parsed.database = value;
    else if (ADO_USER_KEYS.has(name) && value) parsed.user = value;
  }
  if (!server) throw fail(ctx, `it names no server: add e.g. Server=db.example,1433;`);
  let host = server.replace(/^tcp:/i, "").trim();
  const comma = host.lastIndexOf(",");
  if (comma >= 0) {
    const port = parsePort(ctx, host.slice(comma + 1).trim());
    if (port !== undefined) parsed.port = port;
    host = host.slice(0, comma).trim();
  }
  const backslash = host.indexOf("\\");
  if (backslash >= 0) {
    const instance = host.slice(backslash + 1);
    if (instance) parsed.instance = instance;
    host = host.slice(0, backslash);
  }
  host = host.replace(/^\[(.*)\]$/, "$1");
  if (host) parsed.host = host;
  return parsed;
}

/** Splits Key=Value;… honouring {…} ("}}" escapes), "…" and '…' (doubled quote escapes). */
function adoPairs(ctx: Ctx): { key: string; value: string; span: Span }[] {
  const { text } = ctx;
  const pairs: { key: string; value: string; span: Span }[] = [];
  let i = 0;
  for (;;) {
    while (i < text.length && /[\s;]/.test(text[i] ?? "")) i++;
    if (i >= text.length) return pairs;
    const eq = text.indexOf("=", i);
    const semi = text.indexOf(";", i);
    if (eq < 0 || (semi >= 0 && semi < eq)) {
      throw fail(ctx, `every part must be Key=Value, separated by ";" (quote values containing ";" as {…})`);
    }
    const key = text.slice(i, eq).trim();
    if (!key) throw fail(ctx, `a part has "=" but no key before it`);
    let j = eq + 1;
    while (text[j] === " " || text[j] === "\t") j++;
    const open = text[j];
    if (open === "{" || open === '"' || open === "'") {
      const close = open === "{" ? "}" : open;
      let value = "";
      let k = j + 1;
      for (;;) {
        const c = text.indexOf(close, k);
        if (c < 0) throw fail(ctx, `the value of "${key}" opens with ${open} but never closes with ${close}`);
        value += text.slice(k, c);
        k = c;
        if (text[c + 1] !== close) break;
        value += close;
        k = c + 2;
      }
      pairs.push({ key, value, span: [j + 1, k] });
      i = k + 1;
      while (text[i] === " " || text[i] === "\t") i++;
      if (i < text.length && text[i] !== ";") throw fail(ctx, `unexpected text after the quoted value of "${key}": end it with ";"`);
    } else {
      const end = firstOf(text, ";", j);
      const value = text.slice(j, end).trimEnd();
      pairs.push({ key, value, span: [j, j + value.length] });
      i = end;
    }
  }
}

function setPassword(ctx: Ctx, parsed: ParsedDsn, start: number, end: number, decodeValue: (raw: string) => string): void {
  const raw = ctx.text.slice(start, end);
  parsed.password = decodeValue(raw);
  ctx.secrets.push(raw, parsed.password);
  if (end > start) ctx.spans.push([start, end]);
}

// defineProperty, so that a "__proto__" parameter is data, not a prototype change.
function setParam(params: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(params, key, { value, enumerable: true, writable: true, configurable: true });
}

function label(p: ParsedDsn): string {
  if (p.scheme === "file" || p.scheme === "sqlite") return `sqlite:${p.database ?? ""}`;
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

function fail(ctx: Ctx, problem: string, hide?: Span): DbHealthError {
  // ADO strings are not shown at all: an unquoted ";" in a password splits it into parts
  // that no rule would recognise as secret.
  if (ctx.ado) return configError(`invalid ADO connection string: ${problem}`, ctx.secrets);
  const shown = hide ? ctx.text.slice(0, hide[0]) + REDACTED + ctx.text.slice(hide[1]) : ctx.text;
  return configError(`invalid DSN "${clip(redact(shown, ctx.secrets))}": ${problem}`, ctx.secrets);
}

function configError(message: string, secrets: readonly string[] = []): DbHealthError {
  return new DbHealthError("config", message, { secrets });
}

function decode(raw: string): string {
  // Decode each run of valid escapes on its own, so that a stray "%" (a password "100%") stays.
  return raw.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

function firstOf(text: string, chars: string, from: number): number {
  for (let i = from; i < text.length; i++) if (chars.includes(text[i] ?? "")) return i;
  return text.length;
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
