/**
 * Credential redaction for every string that leaves the process: log lines, error messages,
 * labels and HTTP bodies. It errs on the greedy side on purpose: hiding a little too much is a
 * cosmetic bug, showing a password is an incident. This module must not import errors.ts,
 * whose constructor calls redact().
 */

/** What every secret is replaced with. */
export const REDACTED = "***";

// Shorter literals would shred ordinary words ("ab" occurs everywhere).
const MIN_SECRET_LENGTH = 3;
// One rule can expose a match for another (a literal hides a quote, …); repeat until stable.
const MAX_PASSES = 8;
// Bounds on how far a rule looks, so that redaction stays linear on hostile input: no real
// userinfo or secret value is this long.
const MAX_USERINFO = 512;
const MAX_VALUE = 1024;

/** A `[start, end)` range of a string. @internal */
export type Span = readonly [start: number, end: number];

/**
 * Removes every credential from free text: URL userinfo passwords in any scheme (including Go's
 * `mysql://user:pass@tcp(host:3306)/db`), password-like `key=value` parameters in URL queries,
 * libpq and ADO strings (quoted values included), JSON-ish `"password":"…"`, env-style
 * `PGPASSWORD=…`/`*_PASSWORD=…`, plus every literal in `secrets` and its percent-encoded form.
 * Keys are case-insensitive; user, host, port and database stay visible. Idempotent; never throws.
 *
 * @example
 * ```ts
 * redact("connect failed for postgres://app:s3cr3t@db:5432/orders");
 * // → "connect failed for postgres://app:***@db:5432/orders"
 * ```
 */
export function redact(text: string, secrets?: readonly string[]): string {
  return createRedactor(secrets)(text);
}

/**
 * Returns a redact function bound to a set of literal secrets (empty secrets and secrets under
 * 3 characters are ignored so that they do not shred the text).
 *
 * @example
 * ```ts
 * const clean = createRedactor([password]);
 * log.warn(clean(String(err)));
 * ```
 */
export function createRedactor(secrets?: readonly string[]): (text: string) => string {
  const literals = literalPattern(secrets ?? []);
  return (text) => {
    try {
      let current = String(text);
      for (let pass = 0; pass < MAX_PASSES; pass++) {
        let next = redactKeyValues(redactBareGoMysql(redactUrls(current)));
        if (literals) next = next.replace(literals, REDACTED);
        if (next === current) break;
        current = next;
      }
      return current;
    } catch {
      // Unreachable in practice; if it ever happens, showing nothing is the only safe answer.
      return REDACTED;
    }
  };
}

function literalPattern(secrets: readonly string[]): RegExp | undefined {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== "string" || secret.length < MIN_SECRET_LENGTH) continue;
    forms.add(secret);
    for (const form of encodedForms(secret)) if (form.length >= MIN_SECRET_LENGTH) forms.add(form);
  }
  if (forms.size === 0) return undefined;
  // Longest first, so that a secret is not half-replaced by a shorter one it contains.
  const sorted = [...forms].sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map(literalSource).join("|"), "g");
}

function encodedForms(secret: string): string[] {
  const forms = [JSON.stringify(secret).slice(1, -1)];
  try {
    const encoded = encodeURIComponent(secret);
    forms.push(encoded, encoded.replace(/%20/g, "+"));
  } catch {
    // A lone surrogate cannot be percent-encoded, so it cannot appear encoded either.
  }
  return forms;
}

// Percent-escapes are case-insensitive (%2f and %2F), so match both spellings.
function literalSource(form: string): string {
  return form
    .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replace(/%([0-9A-F]{2})/g, (_, hex: string) => `%${hex.replace(/[A-F]/g, (c) => `[${c}${c.toLowerCase()}]`)}`);
}

// Not after "/": a password may itself start with "//".
const URL_START = /(?<![A-Za-z0-9+./-])[A-Za-z][A-Za-z0-9+.-]*:\/\//g;
// Where a URL in running text most likely ends.
const RUN_STOP = /[\s"'`<>]/;

function redactUrls(text: string): string {
  const spans: Span[] = [];
  for (const match of text.matchAll(URL_START)) {
    const span = urlPasswordSpan(text, match.index + match[0].length);
    if (span) spans.push(span);
  }
  return replaceSpans(text, spans);
}

/** The password of the URL whose authority starts at `start`. */
function urlPasswordSpan(text: string, start: number): Span | undefined {
  const limit = urlLimit(text, start);
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

// A user name never holds these unencoded; a candidate "@" that would make it do is not the one.
const SANE_USER = /^[^\s/?#@[\]()]*$/;
// What may follow the userinfo's "@": host (name, [v6] or Go's tcp(…)/unix(…)) and :port, then
// /path, ?key=value&… (keys are identifiers), #fragment. An empty host needs a "/" after it.
const DSN_TAIL =
  /^(?:(?:\[[^\]\s@[]*\]|[A-Za-z][A-Za-z0-9]*\([^()\s]*\)|[\p{L}\p{N}_.%\\-]+)(?::\d*)?|(?=\/))(?:\/[^\s@?#]*)?(?:\?[\w.%+-]+(?:=[^\s#&]*)?(?:&[\w.%+-]+(?:=[^\s#&]*)?)*)?(?:#[^\s@]*)?$/u;
// After host:port, an "@" further on is more often a query value's than a password's.
const TAIL_BEYOND_HOST = /^[^/?#]*[:/?]/;

/**
 * Index of the "@" ending the userinfo of the URL whose authority starts at `start`, looking no
 * further than `end`; undefined when it has none. Passwords may hold unencoded "@", "/", "?" and
 * "#", so the first "@" followed by a well-formed host[:port][/db][?query] wins, else the last
 * one. Internal: shared with parseDsn so that parsing and redaction agree on the password.
 *
 * @internal
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

// A URL ends at the line end or where the next URL starts (lists of DSNs without spaces).
function urlLimit(text: string, from: number): number {
  const next = new RegExp(URL_START.source, "g");
  next.lastIndex = from;
  const end = next.exec(text)?.index ?? text.length;
  return indexOfMatch(text, /[\r\n]/, from, end);
}

// Go's mysql driver DSN without a scheme: user:pass@tcp(host:3306)/db.
const BARE_GO_MYSQL = /(?<![^\s"'=,;(])([^\s:/@"'=,;()]{1,256}):(?!\/\/)(\S{0,512}?)@(?=(?:tcp[46]?|udp|unix)\()/g;

function redactBareGoMysql(text: string): string {
  return text.replace(BARE_GO_MYSQL, (whole, user: string, password: string) =>
    password ? `${user}:${REDACTED}@` : whole,
  );
}

// key=value or key: value, the key optionally quoted (JSON) or dashed (--password=).
const KEY = /(?<![\w.\-/])(["']?)(-{0,2}[A-Za-z][\w.-]*)\1[ \t]*([=:])[ \t]*/g;

function redactKeyValues(text: string): string {
  const spans: Span[] = [];
  const re = new RegExp(KEY.source, "g");
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const [whole, quote = "", key = "", op] = m;
    if (!isSecretKey(key)) continue;
    const valueStart = m.index + whole.length;
    const span = op === "=" ? equalsValue(text, m.index, valueStart) : colonValue(text, m.index, quote !== "", valueStart);
    if (!span) continue;
    spans.push(span);
    re.lastIndex = Math.max(re.lastIndex, span[1]);
  }
  return replaceSpans(text, spans);
}

/** password, pwd, passwd, pass, sslpassword, PGPASSWORD, MYSQL_PWD, DB_PASSWORD, dbPassword, api_key, x-api-key, client_secret, access_token… */
function isSecretKey(key: string): boolean {
  const parts = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[\s_.-]+/)
    .filter(Boolean);
  const last = parts.at(-1) ?? "";
  return (
    last === "pass" ||
    last === "pwd" ||
    /(?:password|passwd|passphrase|secret|token|apikey)$/.test(last) ||
    parts.slice(-2).join("") === "apikey"
  );
}

function equalsValue(text: string, keyStart: number, start: number): Span | undefined {
  const first = text[start];
  if (first === undefined || first === "\n" || first === "\r") return undefined;
  if (first === "'" || first === '"') return quotedSpan(text, start);
  if (first === "{") return bracedSpan(text, start);
  const before = previousNonBlank(text, keyStart);
  if (before === "?" || before === "&") return nonEmpty(start, indexOfMatch(text, /[&#\s"<>]/, start, text.length));
  // ADO values run to ";" and may hold spaces; libpq and env values end at whitespace. A run up
  // to ";" that contains another " key=" is libpq-style text, not one ADO value.
  const semi = indexOfMatch(text, /[;\r\n]/, start, Math.min(text.length, start + MAX_VALUE));
  const run = text.slice(start, semi);
  if (before === ";" || (text[semi] === ";" && !/\s[A-Za-z_][\w .-]*=/.test(run))) {
    return nonEmpty(start, start + closingQuoteCut(run.trimEnd()));
  }
  return nonEmpty(start, unquotedEnd(text, start));
}

function colonValue(text: string, keyStart: number, keyQuoted: boolean, start: number): Span | undefined {
  const first = text[start];
  if (first === undefined || first === "\n" || first === "\r" || text.startsWith("//", start)) return undefined;
  if (first === "'" || first === '"') return quotedSpan(text, start);
  if (keyQuoted) return nonEmpty(start, indexOfMatch(text, /[\s,}\]]/, start, text.length));
  const lineEnd = indexOfMatch(text, /[\r\n]/, start, Math.min(text.length, start + MAX_VALUE));
  if (startsLine(text, keyStart)) {
    return nonEmpty(start, start + text.slice(start, lineEnd).trimEnd().length); // YAML
  }
  const end = indexOfMatch(text, /[\s,;)}\]"']/, start, lineEnd);
  // MySQL's "(using password: YES)" says whether a password was sent, not which one.
  if (/^(?:YES|NO)$/.test(text.slice(start, end))) return undefined;
  return nonEmpty(start, end);
}

// After a closing quote: end of value. Before anything else, a doubled quote is an escape.
const QUOTE_DELIM = /[\s,;)}\]&:]/;

/** Inside '…' or "…": backslash escapes (libpq, JSON) and doubled quotes (ADO). */
function quotedSpan(text: string, open: number): Span | undefined {
  const quote = text[open];
  let i = open + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === "\n" || c === "\r") break;
    if (c === "\\") {
      i += 2;
      continue;
    }
    if (c === quote) {
      const afterDouble = text[i + 2];
      if (text[i + 1] === quote && afterDouble !== undefined && !QUOTE_DELIM.test(afterDouble)) {
        i += 2;
        continue;
      }
      return nonEmpty(open + 1, i);
    }
    i++;
  }
  // Unterminated: everything to the end of the line may be secret.
  return nonEmpty(open + 1, Math.min(i, text.length));
}

/** ODBC {…}: "}}" is an escaped "}", always. */
function bracedSpan(text: string, open: number): Span | undefined {
  let i = open + 1;
  while (i < text.length && text[i] !== "\n" && text[i] !== "\r") {
    if (text[i] === "}") {
      if (text[i + 1] !== "}") return nonEmpty(open + 1, i);
      i++;
    }
    i++;
  }
  return nonEmpty(open + 1, i);
}

function unquotedEnd(text: string, start: number): number {
  let i = start;
  while (i < text.length) {
    const c = text[i] ?? "";
    const next = text[i + 1];
    if (/[\s;]/.test(c)) break;
    if (c === "," && (next === undefined || /\s/.test(next))) break;
    if ((c === '"' || c === "'") && (next === undefined || QUOTE_DELIM.test(next))) break;
    i += c === "\\" ? 2 : 1;
  }
  return Math.min(i, text.length);
}

// `Password=x"}` inside a JSON string: the quote closes the JSON string, it is not the value.
function closingQuoteCut(run: string): number {
  const cut = run.search(/["'](?=$|[\s,)}\]])/);
  return cut < 0 ? run.length : cut;
}

// Only blanks (and a YAML list "- ") between the line start and `index`.
function startsLine(text: string, index: number): boolean {
  let i = index - 1;
  if (text[i] === " " && text[i - 1] === "-") i -= 2;
  while (i >= 0 && (text[i] === " " || text[i] === "\t")) i--;
  return i < 0 || text[i] === "\n" || text[i] === "\r";
}

function previousNonBlank(text: string, index: number): string | undefined {
  let i = index - 1;
  while (i >= 0 && (text[i] === " " || text[i] === "\t")) i--;
  return text[i];
}

function indexOfChar(text: string, char: string, from: number, to: number): number {
  for (let i = from; i < to; i++) if (text[i] === char) return i;
  return -1;
}

/** First index in [from, to) of a character matching `re`, else `to`. */
function indexOfMatch(text: string, re: RegExp, from: number, to: number): number {
  if (to <= from) return to;
  const found = text.slice(from, to).search(re);
  return found < 0 ? to : from + found;
}

function nonEmpty(start: number, end: number): Span | undefined {
  return end > start ? [start, end] : undefined;
}

/** Replaces each non-overlapping span of `text` with `***`. @internal */
export function replaceSpans(text: string, spans: readonly Span[]): string {
  if (spans.length === 0) return text;
  let out = "";
  let pos = 0;
  for (const [start, end] of [...spans].sort((a, b) => a[0] - b[0])) {
    if (start < pos) continue;
    out += text.slice(pos, start) + REDACTED;
    pos = end;
  }
  return out + text.slice(pos);
}
