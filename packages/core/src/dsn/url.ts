/**
 * URL DSNs (postgres://, mysql://, sqlserver://, any other scheme), including Go mysql's
 * tcp(host:port)/unix(path) addresses, IPv6 literals, sockets and SQL Server instances.
 */
import type { ParsedDsn } from "./parsed-dsn.js";
import { EXAMPLE, decodePart, fail, firstOf, parsePort, parseQuery, setPassword, type Ctx } from "./context.js";
import { findUserinfoEnd } from "../redact/userinfo.js";

/**
 * Parses `scheme://[user[:password]@]address[/database][?query]`.
 *
 * @example
 * ```ts
 * parseUrl(ctx, "postgres"); // { scheme: "postgres", form: "url", host: "db", database: "app", … }
 * ```
 */
export function parseUrl(ctx: Ctx, scheme: string): ParsedDsn {
  const { text } = ctx;
  const start = scheme.length + 3;
  if (text.slice(scheme.length + 1, start) !== "//") {
    throw fail(ctx, `expected "${scheme}://" followed by the address, e.g. ${EXAMPLE}`);
  }
  const parsed: ParsedDsn = { scheme, form: "url", params: {} };
  let pos = start;
  const userinfo = locateUserinfo(text, start);
  if (userinfo) {
    // The password first: an error about the user name must not show it.
    if (userinfo.passwordStart !== undefined) setPassword(ctx, parsed, userinfo.passwordStart, userinfo.at);
    const user = decodePart(ctx, text.slice(start, userinfo.userEnd), "the user name");
    if (user) parsed.user = user;
    pos = userinfo.at + 1;
  }
  // Nothing in a database DSN is a fragment: a "#" after the userinfo is a value's (a password
  // in ?password=) that was not encoded. Everything after it may be secret.
  const hash = text.indexOf("#", pos);
  if (hash >= 0) throw fail(ctx, `"#" cannot appear after the host: percent-encode it as %23`, [hash + 1, text.length]);
  const net = scheme === "mysql" || scheme === "mariadb" ? /^([A-Za-z][A-Za-z0-9]*)\(/.exec(text.slice(pos))?.[1] : undefined;
  pos = net === undefined ? parseAuthority(ctx, parsed, pos) : parseGoAddress(ctx, parsed, pos, net);

  const pathEnd = firstOf(text, "?#", pos);
  const database = text.slice(pos, pathEnd).replace(/^\//, "");
  if (database) parsed.database = decodePart(ctx, database, "the database name");
  if (text[pathEnd] === "?") parseQuery(ctx, parsed, pathEnd + 1, firstOf(text, "#", pathEnd + 1));

  refuseTwice(ctx, parsed);
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

// Query parameters that name what the URL's own parts already say. Clients disagree on which wins
// (libpq takes the query's ?port=, others the address), so the probe could check another server,
// database or user than the application: one setting, one place.
const SAME_AS: ReadonlyArray<[part: string, has: (p: ParsedDsn) => boolean, keys: readonly string[]]> = [
  ["host", (p) => p.host !== undefined || p.socket !== undefined, ["host", "hostaddr", "server", "address", "addr"]],
  ["port", (p) => p.port !== undefined, ["port"]],
  ["database", (p) => p.database !== undefined, ["database", "dbname", "db", "initial catalog"]],
  ["user", (p) => p.user !== undefined, ["user", "username", "uid", "user id"]],
];

function refuseTwice(ctx: Ctx, parsed: ParsedDsn): void {
  const given = Object.keys(parsed.params);
  for (const [part, has, keys] of SAME_AS) {
    const named = given.filter((k) => keys.includes(k.toLowerCase()));
    if (named.length > 1) throw fail(ctx, `the ${part} is given twice, as ?${named[0]}= and ?${named[1]}=: keep one`);
    if (named[0] !== undefined && has(parsed)) throw fail(ctx, `the ${part} is given twice, in the address and as ?${named[0]}=: keep one`);
  }
}

/** Where the userinfo ends; the rules live in userinfo.ts so that parsing and redaction agree. */
function locateUserinfo(text: string, start: number): { userEnd: number; passwordStart?: number; at: number } | undefined {
  const at = findUserinfoEnd(text, start, text.length);
  if (at === undefined) return undefined;
  const colon = text.indexOf(":", start);
  return colon >= start && colon < at ? { userEnd: colon, passwordStart: colon + 1, at } : { userEnd: at, at };
}

function parseAuthority(ctx: Ctx, parsed: ParsedDsn, pos: number): number {
  const end = firstOf(ctx.text, "/?#", pos);
  if (ctx.text.slice(pos, end).includes(",")) {
    throw fail(ctx, `several hosts (h1,h2) are not supported: a probe checks one server, so give each host its own target`);
  }
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
  const decoded = decodePart(ctx, host, "the host");
  return { ...(decoded ? { host: decoded } : {}), ...(port === undefined ? {} : { port }) };
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
    const socket = decodePart(ctx, text.slice(open, close), "the socket path");
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
