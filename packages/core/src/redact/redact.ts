/**
 * Credential redaction for every string that leaves the process: log lines, error messages,
 * labels and HTTP bodies. It errs on the greedy side on purpose: hiding a little too much is a
 * cosmetic bug, showing a password is an incident. This folder (key-value-secrets.ts, spans.ts, userinfo.ts)
 * must not import contract/errors.ts, whose constructor calls redact().
 */
import { keyValueSecretSpans } from "./key-value-secrets.js";
import { indexOfMatch, type Span } from "./spans.js";
import { urlPasswordSpan } from "./userinfo.js";

/** What every secret is replaced with. */
export const REDACTED = "***";

// Shorter literals would shred ordinary words ("ab" occurs everywhere).
const MIN_SECRET_LENGTH = 3;
// One rule can expose a match for another (a literal hides a quote, …); repeat until stable.
const MAX_PASSES = 8;

/**
 * Removes every credential from free text: URL userinfo passwords in any scheme (including Go's
 * `mysql://user:pass@tcp(host:3306)/db`) and without one (`user:pass@host`), password-like `key=value` parameters in URL queries,
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
        // Every rule and every literal is matched on the same text and the union of their spans
        // hidden at once. In sequence, one would blind another: a `Password=` rule stopping at a
        // ";" inside the password leaves its tail for no literal to match, and a literal that is
        // also a word ("postgres", "secret") hidden first breaks the URL or key it sits in.
        // A URL's password is hidden whole; other rules matching inside it ("token:" or "pass="
        // in the password) would run past its end and hide the host and database.
        const urls = urlSpans(current);
        const outside = (span: Span): boolean => !urls.some(([start, end]) => span[0] >= start && span[0] < end);
        const rules = [...bareGoMysqlSpans(current), ...schemelessSpans(current), ...keyValueSecretSpans(current)].filter(outside);
        const spans = [...urls, ...rules, ...literalSpans(current, literals)];
        const next = replaceSpans(current, spans);
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

/**
 * Replaces each span of `text` with `***`; overlapping and touching spans are joined first, so
 * their union is hidden as one `***` (never a span cut short by one that started earlier).
 *
 * @internal shared with dsn.ts, which hides exactly the password it parsed.
 * @example
 * ```ts
 * replaceSpans("u:pw@h", [[2, 4]]); // "u:***@h"
 * ```
 */
export function replaceSpans(text: string, spans: readonly Span[]): string {
  if (spans.length === 0) return text;
  const merged: Array<[number, number]> = [];
  for (const [start, end] of [...spans].sort((a, b) => a[0] - b[0])) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  let out = "";
  let pos = 0;
  for (const [start, end] of merged) {
    out += text.slice(pos, start) + REDACTED;
    pos = end;
  }
  return out + text.slice(pos);
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
  // Case-insensitive: servers fold what they echo (PostgreSQL lower-cases an unquoted
  // identifier: `column "s3cretpw" does not exist` for a check that says `SELECT S3cretPw`).
  return new RegExp(sorted.map(literalSource).join("|"), "gi");
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

function urlSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const match of text.matchAll(URL_START)) {
    const start = match.index + match[0].length;
    const span = urlPasswordSpan(text, start, urlLimit(text, start));
    if (span) spans.push(span);
  }
  return spans;
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

function bareGoMysqlSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const match of text.matchAll(BARE_GO_MYSQL)) {
    const password = match[2]!;
    const start = match.index + match[1]!.length + 1;
    if (password) spans.push([start, start + password.length]);
  }
  return spans;
}

// user:pass@host without a scheme (a URL typed without "http://", a libpq-style "user:pass@host"
// in a flag): the user, then ":" not followed by "//". Where the password ends is found by
// schemelessSpans.
const BARE_USER = /(?<![^\s"'=,;(<[{])[^\s:/@"'=,;()<>[\]{}]{1,256}:(?!\/\/)/g;
// How far a password is looked for.
const MAX_BARE_PASSWORD = 512;
const DOUBLE_QUOTED_END = /["\r\n]/;
const SINGLE_QUOTED_END = /['\r\n]/;

/**
 * Passwords of user:pass@host without a scheme. The password runs to the last "@" of its word
 * (a password may hold "@"), or, inside quotes, of the quoted text (it may hold spaces:
 * `"app:p@ss w0rd@db"` as a message quotes a value); a password quoted itself (`app:"pw"@db`) to
 * its closing quote. Nothing needs to follow the "@". Text like "mailto:x@y" loses its "x": hiding
 * a little too much is the safe side.
 */
function schemelessSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const match of text.matchAll(BARE_USER)) {
    const start = match.index + match[0].length;
    const before = text[match.index - 1];
    const first = text[start];
    let end: number;
    if (first === '"' || first === "'") {
      const close = text.indexOf(first, start + 1);
      end = close > 0 && text[close + 1] === "@" ? close + 1 : -1;
    } else {
      const stop = indexOfMatch(text, before === '"' ? DOUBLE_QUOTED_END : before === "'" ? SINGLE_QUOTED_END : /\s/, start, Math.min(text.length, start + MAX_BARE_PASSWORD));
      end = text.lastIndexOf("@", stop - 1);
    }
    if (end > start) spans.push([start, end]);
  }
  return spans;
}

function literalSpans(text: string, literals: RegExp | undefined): Span[] {
  if (!literals) return [];
  return [...text.matchAll(literals)].map((m): Span => [m.index, m.index + m[0].length]);
}
