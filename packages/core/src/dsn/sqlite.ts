/** SQLite URIs: `file:db.sqlite`, `file:///abs/x.db`, `file::memory:`, `sqlite:` and `sqlite3:` alike. */
import type { ParsedDsn } from "./parsed-dsn.js";
import { decodePart, fail, firstOf, parseQuery, type Ctx } from "./context.js";

/** URL schemes that name a SQLite database; they all parse the same way. */
export const SQLITE_SCHEMES: ReadonlySet<string> = new Set(["file", "sqlite", "sqlite3"]);

/**
 * Parses `scheme:path`, `scheme://path`, `scheme:///abs/path` and `scheme://localhost/abs/path`,
 * then `?key=value` parameters. An empty path is an error unless `mode=memory` asks for an
 * in-memory database: a driver opening "" would silently get a temporary database and report a
 * file that does not exist as healthy.
 *
 * @example
 * ```ts
 * parseSqliteUri(ctx, "sqlite3"); // for "sqlite3:///var/lib/app.db": { database: "/var/lib/app.db", … }
 * ```
 */
export function parseSqliteUri(ctx: Ctx, scheme: string): ParsedDsn {
  const { text } = ctx;
  const bodyStart = scheme.length + 1;
  // A fragment means nothing to SQLite; a "#" is a file name's or a value's that was not encoded
  // (everything after it may be secret).
  const hash = text.indexOf("#", bodyStart);
  if (hash >= 0) throw fail(ctx, `"#" cannot appear in a SQLite URI: percent-encode it as %23`, [hash + 1, text.length]);
  const bodyEnd = firstOf(text, "#", bodyStart);
  const pathEnd = firstOf(text, "?", bodyStart);
  let path = text.slice(bodyStart, Math.min(pathEnd, bodyEnd));
  if (path.startsWith("//")) {
    path = path.slice(2);
    if (/^localhost(?:\/|$)/i.test(path)) path = path.slice("localhost".length);
    // file://HOST/path names a host (RFC 8089); only an empty host or localhost is this machine.
    // (`sqlite://app.db`, one name without a "/", stays a relative path, as other tools read it.)
    else if (/^[^/]+\//.test(path)) {
      const host = path.split("/", 1)[0]!;
      throw fail(ctx, `${scheme}://${host}/… names the host "${host}": write ${scheme}:///PATH (three slashes) for an absolute path or ${scheme}:PATH for a relative one`);
    }
  }
  path = decodePart(ctx, path, "the file path");
  if (/^\/[A-Za-z]:[\\/]/.test(path)) path = path.slice(1); // file:///C:/data/app.db
  const parsed: ParsedDsn = { scheme, form: "sqlite-file", database: path, params: {} };
  if (pathEnd < bodyEnd) parseQuery(ctx, parsed, pathEnd + 1, bodyEnd);
  if (path) return parsed;
  if (parsed.params["mode"] === "memory") return { ...parsed, database: ":memory:" };
  throw fail(
    ctx,
    `no database file after "${scheme}:": use e.g. ${scheme}:data/app.db, ${scheme}:///var/lib/app.db, or ${scheme}::memory: for an in-memory database`,
  );
}
