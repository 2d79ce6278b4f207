/**
 * Where a URL's userinfo (and so its password) ends. One implementation for redact() and
 * parseDsn(), so that parsing and redaction always agree on which characters are the password.
 */
import { indexOfChar, indexOfMatch, type Span } from "./spans.js";

// Bounds on how far a rule looks, so that redaction stays linear on hostile input: no real
// userinfo is this long.
const MAX_USERINFO = 512;
// Where a URL in running text most likely ends.
const RUN_STOP = /[\s"'`<>]/;
// A user name never holds these unencoded; a candidate "@" that would make it do is not the one.
const SANE_USER = /^[^\s/?#@[\]()]*$/;
// What may follow the userinfo's "@": host (name, [v6] or Go's tcp(…)/unix(…)) and :port, then
// /path, ?key=value&… (keys are identifiers), #fragment. An empty host needs a "/" after it.
const DSN_TAIL =
  /^(?:(?:\[[^\]\s@[]*\]|[A-Za-z][A-Za-z0-9]*\([^()\s]*\)|[\p{L}\p{N}_.%\\-]+)(?::\d*)?|(?=\/))(?:\/[^\s@?#]*)?(?:\?[\w.%+-]+(?:=[^\s#&]*)?(?:&[\w.%+-]+(?:=[^\s#&]*)?)*)?(?:#[^\s@]*)?$/u;
// After host:port, an "@" further on is more often a query value's than a password's.
const TAIL_BEYOND_HOST = /^[^/?#]*[:/?]/;

/**
 * The password of the URL whose authority starts at `start` in running text, looking no further
 * than `limit` (the line end or the next URL).
 *
 * @example
 * ```ts
 * urlPasswordSpan("see postgres://u:pw@h/db", 15, 24); // [17, 19]
 * ```
 */
export function urlPasswordSpan(text: string, start: number, limit: number): Span | undefined {
  const runEnd = indexOfMatch(text, RUN_STOP, start, limit);
  let at = findUserinfoEnd(text, start, runEnd);
  if (at === undefined || !DSN_TAIL.test(text.slice(at + 1, runEnd))) {
    // A password holding a space or quote stops the run before its real "@": look further.
    const first = indexOfChar(text, "@", runEnd, Math.min(limit, start + MAX_USERINFO));
    if (first >= 0) at = findUserinfoEnd(text, start, indexOfMatch(text, RUN_STOP, first, limit)) ?? at;
  }
  if (at === undefined) return undefined;
  const colon = indexOfChar(text, ":", start, at);
  return colon >= 0 && colon + 1 < at ? [colon + 1, at] : undefined;
}

/**
 * Index of the "@" ending the userinfo of the URL whose authority starts at `start`, looking no
 * further than `end`; undefined when it has none. Passwords may hold unencoded "@", "/", "?" and
 * "#", so the first "@" followed by a well-formed host[:port][/db][?query] wins, else the last
 * one.
 *
 * @example
 * ```ts
 * findUserinfoEnd("postgres://u:p@ss@host/db", 11, 25); // 17
 * ```
 */
export function findUserinfoEnd(text: string, start: number, end: number): number | undefined {
  const window = Math.min(end, start + MAX_USERINFO);
  const authorityEnd = indexOfMatch(text, /[/?#]/, start, end);
  const colon = indexOfChar(text, ":", start, window);
  let hostPortFirst = false;
  if (indexOfChar(text, "@", start, Math.min(authorityEnd, window)) < 0) {
    // No "@" before the first "/", "?" or "#": host, host:port or jdbc's host:1433;…, unless a
    // later "@" shows that the password holds one of those characters.
    if (colon < 0 || colon >= authorityEnd) return undefined;
    hostPortFirst = /^\d+(?:$|[;,])/.test(text.slice(colon + 1, authorityEnd));
  }
  let last: number | undefined;
  for (let at = indexOfChar(text, "@", start, window); at >= 0; at = indexOfChar(text, "@", at + 1, window)) {
    if (!SANE_USER.test(text.slice(start, colon >= 0 && colon < at ? colon : at))) continue;
    const tail = text.slice(at + 1, end);
    if (DSN_TAIL.test(tail) && (!hostPortFirst || TAIL_BEYOND_HOST.test(tail))) return at;
    last = at;
  }
  return hostPortFirst ? undefined : last;
}
