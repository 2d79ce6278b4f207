/**
 * Where the secrets of a DSN that does not parse may sit. A parser that gave up cannot say
 * which characters were the password, so these rules hide more than a parse would: every
 * character that could belong to a password, never one that could not.
 */
import { isSecretKey } from "../redact/key-value-secrets.js";
import type { Span } from "../redact/spans.js";

// `scheme://` (a quote may precede it): the user part starts after it.
const SCHEME_PREFIX = /^["'`]?[A-Za-z][A-Za-z0-9+.-]*:\/\//;
// `key=` at the start or after a separator: whitespace (libpq), ";" (ADO), "&" or "?" (queries).
// Percent-escapes count as key characters: `pass%77ord` is decoded before it is judged.
const KEY = /(?:^|[\s;&?])["']?([A-Za-z_%][\w.%-]*)["']?[ \t]*=/g;
// A query or conninfo part whose name only shows once decoded (`password%3Dsecret`).
const ENCODED_PART = /(?<=^|[\s;&?])[^\s;&?#]*%[^\s;&?#]*/g;
// Where a key may start, which could end a secret value: blanks then `word=` (libpq), ";" then
// `Some Key=` (ADO keys may hold spaces), "&" then `word=` (queries), or the line's end. Only a
// recognised key ends the value: `password=a b=c` hides "a b=c", not "a".
const NEXT_KEY = /(\s+)([A-Za-z_][\w.-]*)[ \t]*=|(;\s*)([A-Za-z_][\w .-]*?)\s*=|(&)([A-Za-z_][\w.%-]*)=|[\r\n]/g;
// Keys of libpq conninfo strings, ADO connection strings and the query parameters the drivers read.
const KNOWN_KEYS = new Set(
  [
    "host", "hostaddr", "port", "dbname", "user", "passfile", "connect_timeout", "client_encoding", "options", "application_name",
    "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
    "sslmode", "sslcert", "sslkey", "sslrootcert", "sslcrl", "sslpassword", "sslnegotiation", "requiressl", "service",
    "target_session_attrs", "channel_binding", "gssencmode", "krbsrvname", "load_balance_hosts", "replication",
    "server", "data source", "address", "addr", "network address", "database", "initial catalog", "user id", "uid", "username",
    "user name", "encrypt", "trustservercertificate", "trust server certificate", "integrated security", "trusted_connection",
    "app", "application name", "connect timeout", "connection timeout", "timeout", "multipleactiveresultsets", "pooling",
    "packet size", "applicationintent", "multisubnetfailover", "workstation id", "tls", "ssl-mode", "ssl_mode", "ssl-ca", "ssl_ca",
    "charset", "readtimeout", "writetimeout", "parsetime", "loc", "collation", "mode", "cache", "journal_mode", "schema",
    "password", "pwd", "passwd", "pass",
  ],
);

/**
 * Spans to hide in a DSN that did not parse: everything between the first ":" of the user part
 * and the last "@" (the password of `user:pass@host`, with or without a scheme, mistyped or not),
 * and the whole value of every password-like key up to the next key, quoted or not.
 *
 * @example
 * ```ts
 * unparsedSecretSpans("app:p w@tcp(db:3306)/shop");   // [[4, 7]]: "p w"
 * unparsedSecretSpans("host=h password=a b SECRET"); // [[16, 26]]: "a b SECRET"
 * ```
 */
export function unparsedSecretSpans(text: string): Span[] {
  const spans: Span[] = [];
  const at = text.lastIndexOf("@");
  if (at > 0) {
    // After a well-formed `scheme://` the user part starts there; anything else (`app:/pw@h`,
    // `postgres//u:pw@h`, `u:/pw@h`) may be a user whose password starts with "/": from the start.
    const userStart = SCHEME_PREFIX.exec(text)?.[0].length ?? 0;
    const colon = text.indexOf(":", userStart);
    if (colon >= 0 && colon + 1 < at) spans.push([colon + 1, at]);
  }
  return [...spans, ...secretValueSpans(text), ...encodedSecretParts(text)];
}

/**
 * The whole value of every password-like key of a DSN, up to the next recognised key, quoted or
 * not: what a password holding "&", ";" or " key=" looks like to a parser is ambiguous, and the
 * text that follows it up to a key the DSN dialects know may be the rest of the password.
 *
 * @example
 * ```ts
 * secretValueSpans("postgres://db/x?password=a&b=c&sslmode=require"); // [[26, 31]]: "a&b=c"
 * ```
 */
export function secretValueSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const m of text.matchAll(KEY)) {
    if (!isSecretKey(decodeLoosely(m[1]!))) continue;
    let start = m.index + m[0].length;
    while (text[start] === " " || text[start] === "\t") start++;
    // A quoted value runs to its closing quote whatever it holds (`'abc user=x'`), then on to
    // the next recognised key (a quote the shell ate leaves the rest of the password behind it).
    const quote = text[start];
    const closed = quote === "'" || quote === '"' ? closingQuote(text, start) : start;
    const end = valueEnd(text, closed);
    if (end > start) spans.push([start, end]);
  }
  return spans;
}

// Parts whose decoded text is `secret-key=…` or `secret-key:…` are hidden whole: their name is
// a password key only once decoded, so no rule above saw it.
function encodedSecretParts(text: string): Span[] {
  const spans: Span[] = [];
  for (const m of text.matchAll(ENCODED_PART)) {
    const decoded = decodeLoosely(m[0]);
    const key = /^["']?([A-Za-z_][\w.-]*)["']?\s*[=:]/.exec(decoded)?.[1];
    if (key !== undefined && isSecretKey(key)) spans.push([m.index, m.index + m[0].length]);
  }
  return spans;
}

// Index just past the quote that closes the one at `open` (doubled or backslashed quotes are
// part of the value), or the text's end when it never closes.
function closingQuote(text: string, open: number): number {
  const quote = text[open];
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") i++;
    else if (c === quote) {
      if (text[i + 1] === quote) i++;
      else return i + 1;
    }
  }
  return text.length;
}

function decodeLoosely(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

// Where a secret value starting at `start` ends: at the next recognised key or line end.
function valueEnd(text: string, start: number): number {
  const next = new RegExp(NEXT_KEY.source, "g");
  next.lastIndex = start;
  for (let m = next.exec(text); m; m = next.exec(text)) {
    const key = m[2] ?? m[4] ?? m[6];
    if (key === undefined || KNOWN_KEYS.has(key.toLowerCase().replace(/\s+/g, " "))) return m.index;
  }
  return text.length;
}
