/**
 * The values of password-like keys in free text: `key=value` (URL queries, libpq, ADO, env,
 * `--flags`) and `key: value` (JSON, util.inspect, YAML), quoted or not.
 */
import { indexOfMatch, nonEmpty, type Span } from "./spans.js";

// Bound on how far a value is searched, so that redaction stays linear on hostile input: no
// real secret value is this long.
const MAX_VALUE = 1024;
// key=value or key: value, the key optionally quoted (JSON) or dashed (--password=).
const KEY = /(?<![\w.\-/])(["']?)(-{0,2}[A-Za-z][\w.-]*)\1[ \t]*([=:])[ \t]*/g;
// After a closing quote: end of value. Before anything else, a doubled quote is an escape.
const QUOTE_DELIM = /[\s,;)}\]&:]/;

/**
 * Spans of every secret value in `text`, in order and not overlapping.
 *
 * @example
 * ```ts
 * keyValueSecretSpans("host=db password=pw user=x"); // [[17, 19]]
 * ```
 */
export function keyValueSecretSpans(text: string): Span[] {
  const spans: Span[] = [];
  const re = new RegExp(KEY.source, "g");
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const [whole, quote = "", key = "", op] = m;
    if (!isSecretKey(key)) continue;
    const valueStart = m.index + whole.length;
    const span = isAuthorization(key)
      ? authorizationValue(text, valueStart)
      : op === "=" ? equalsValue(text, m.index, valueStart) : colonValue(text, m.index, quote !== "", valueStart);
    if (!span) continue;
    spans.push(span);
    re.lastIndex = Math.max(re.lastIndex, span[1]);
  }
  return spans;
}

/**
 * True for a key whose value is a secret: password, pwd, passwd, pass, sslpassword, PGPASSWORD,
 * MYSQL_PWD, DB_PASSWORD, dbPassword, api_key, x-api-key, client_secret, access_token, an HTTP
 * Authorization or Proxy-Authorization header…
 *
 * @example
 * ```ts
 * isSecretKey("sslpassword"); // true
 * isSecretKey("user");        // false
 * ```
 */
export function isSecretKey(key: string): boolean {
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
    parts.slice(-2).join("") === "apikey" ||
    last === "authorization"
  );
}

const isAuthorization = (key: string): boolean => /authorization$/i.test(key);

/**
 * An Authorization header's value is a scheme and a credential (`Basic dXNlcjpwdw==`, `Digest
 * username="u", response="…"`): all of it, to the end of the line or the closing quote.
 */
function authorizationValue(text: string, start: number): Span | undefined {
  const first = text[start];
  if (first === "'" || first === '"') return quotedSpan(text, start);
  const lineEnd = indexOfMatch(text, /[\r\n]/, start, Math.min(text.length, start + MAX_VALUE));
  return nonEmpty(start, start + text.slice(start, lineEnd).trimEnd().length);
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
      const after = text[i + 1];
      const afterDouble = text[i + 2];
      if (after === quote && afterDouble !== undefined && !QUOTE_DELIM.test(afterDouble)) {
        i += 2;
        continue;
      }
      // A quote followed by more of the word (`'it's secret'`, a quote the shell ate) does not
      // close the value: closing there would show the rest of the password.
      if (after !== undefined && after !== quote && !QUOTE_DELIM.test(after)) {
        i++;
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
