/**
 * What every DSN dialect parser shares: the parse context, error construction (always redacted),
 * password bookkeeping, query strings, ports and percent-decoding.
 */
import type { ParsedDsn } from "./parsed-dsn.js";
import { DbHealthError } from "../contract/errors.js";
import { redact, replaceSpans } from "../redact/redact.js";
import { unparsedSecretSpans } from "./unparsed.js";
import type { Span } from "../redact/spans.js";

/** What a parser carries around: the trimmed text and the secrets found so far, for errors. */
export interface Ctx {
  text: string;
  /** Where `text` starts in the original (untrimmed) input. */
  offset: number;
  ado: boolean;
  /** Where the secrets sit in `text`, so that redactDsn hides exactly them. */
  spans: Span[];
  /** The password raw and decoded, for dsnSecrets(). */
  secrets: string[];
}

export const PASSWORD_KEYS = new Set(["password", "pwd", "passwd", "pass"]);
// No password in examples: the error message is redacted and would show "***".
export const EXAMPLE = "postgres://user@host:5432/db";

/**
 * `?key=value&…` between `from` and `to` into `parsed.params`; password keys into
 * `parsed.password`. A key given twice is an error: which of the two a client would use differs
 * between libraries, so the probe could check another setting than the application uses.
 */
export function parseQuery(ctx: Ctx, parsed: ParsedDsn, from: number, to: number): void {
  let i = from;
  while (i <= to) {
    const amp = ctx.text.indexOf("&", i);
    const end = amp < 0 || amp > to ? to : amp;
    const eq = ctx.text.indexOf("=", i);
    const hasValue = eq >= 0 && eq < end;
    const valueStart = hasValue ? eq + 1 : end;
    const rawKey = ctx.text.slice(i, hasValue ? eq : end);
    // A part without "=" is most often the tail of a value holding an unencoded "&" (a password
    // "a&b"): taking it for a parameter name would show it in "unknown parameter …".
    if (!hasValue && rawKey !== "") {
      throw fail(ctx, `a query part has no "=": percent-encode "&" inside a value as %26`, [i, end]);
    }
    if (hasValue && rawKey === "") throw fail(ctx, `a query part has no name before "=": percent-encode "&" inside a value as %26`, [i, end]);
    // A password key is recognised before decoding, so that a bad escape in it is never shown.
    if (PASSWORD_KEYS.has(rawKey.toLowerCase())) {
      if (parsed.password !== undefined) throw fail(ctx, `the password is given twice (in the user part or as a parameter): keep one`, [valueStart, end]);
      setPassword(ctx, parsed, valueStart, end);
    } else {
      const key = decodePart(ctx, rawKey, "a parameter name");
      // Parameter names are words; anything else is a piece of a value with an unencoded "&".
      if (!/^[A-Za-z0-9_.-]+$/.test(key)) throw fail(ctx, `a parameter name may only hold letters, digits, "_", "." and "-": percent-encode "&" inside a value as %26`, [i, end]);
      if (PASSWORD_KEYS.has(key.toLowerCase())) throw fail(ctx, `write the password parameter's name without percent-escapes`, [valueStart, end]);
      if (key !== "") {
        if (Object.hasOwn(parsed.params, key)) throw fail(ctx, `parameter ${describeKey(key)} is given twice: keep one`);
        setParam(parsed.params, key, decodePart(ctx, ctx.text.slice(valueStart, end), `parameter ${describeKey(key)}`));
      }
    }
    i = end + 1;
  }
}

// A parameter name as shown in a message: only short names are echoed.
function describeKey(key: string): string {
  return key.length <= 40 ? key : "(name not shown)";
}

/** A port from 1 to 65535, or undefined for an empty one. `where` hides a non-numeric one in the error. */
export function parsePort(ctx: Ctx, raw: string, where?: Span): number | undefined {
  if (raw === "") return undefined;
  const port = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (port >= 1 && port <= 65535) return port;
  // A non-numeric "port" is often a password whose "@host" was forgotten: do not echo it.
  const shown = /^\d{1,5}$/.test(raw);
  throw fail(ctx, `the port must be a number from 1 to 65535${shown ? ` (got ${raw})` : ""}`, shown ? undefined : where);
}

/**
 * Records the password at `[start, end)`: its span and raw text first, so that an error about
 * it (a bad escape) is shown with it hidden, then the decoded value (`decoded` for ADO strings,
 * which have no percent-escapes).
 */
export function setPassword(ctx: Ctx, parsed: ParsedDsn, start: number, end: number, decoded?: string): void {
  const raw = ctx.text.slice(start, end);
  if (end > start) ctx.spans.push([start, end]);
  ctx.secrets.push(raw);
  parsed.password = decoded ?? decodePart(ctx, raw, "the password", true);
  ctx.secrets.push(parsed.password);
}

// defineProperty, so that a "__proto__" parameter is data, not a prototype change.
export function setParam(params: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(params, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A config error about the DSN being parsed, showing it with every secret hidden: the spans
 * found so far, `hide`, and whatever {@link hideUnparsed} would hide (the parse stopped, so the
 * rest of the text may hold a password nobody located). ADO strings are not shown at all: an
 * unquoted ";" in a password splits it into parts that no rule would recognise as secret.
 */
export function fail(ctx: Ctx, problem: string, hide?: Span): DbHealthError {
  if (ctx.ado) return configError(`invalid ADO connection string: ${problem}`, ctx.secrets);
  const spans = hide ? [...ctx.spans, hide] : ctx.spans;
  return configError(`invalid DSN "${clip(hideUnparsed(ctx.text, spans, ctx.secrets))}": ${problem}`, ctx.secrets);
}

/**
 * A DSN that may not parse, safe to show: `spans` and every span a failed parse could have
 * missed ({@link unparsedSecretSpans}) hidden, then the generic rules and `secrets` applied.
 *
 * @example
 * ```ts
 * hideUnparsed("app:p w@tcp(db:3306)/shop"); // "app:***@tcp(db:3306)/shop"
 * ```
 */
export function hideUnparsed(text: string, spans: readonly Span[] = [], secrets: readonly string[] = []): string {
  return redact(replaceSpans(text, [...spans, ...unparsedSecretSpans(text)]), secrets);
}

export function configError(message: string, secrets: readonly string[] = []): DbHealthError {
  return new DbHealthError("config", message, { secrets });
}

/**
 * Percent-decodes one part of a DSN, strictly: a "%" without two hex digits after it, escapes
 * that are not UTF-8, and (outside the password) control characters are errors naming `what`,
 * never showing a secret part. libpq and Go refuse such DSNs too; guessing what was meant would
 * make the probe check another database, user or password than the application uses.
 *
 * @example
 * ```ts
 * decodePart(ctx, "my%20db", "the database name"); // "my db"
 * decodePart(ctx, "p%zz", "the password", true);   // throws: … "%" that is not followed by two hex digits …
 * ```
 */
export function decodePart(ctx: Ctx, raw: string, what: string, secret = false): string {
  if (/%(?![0-9A-Fa-f]{2})/.test(raw)) {
    throw fail(ctx, `${what} has a "%" that is not followed by two hex digits: write a literal "%" as %25`);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw fail(ctx, `${what} has percent-escapes that are not UTF-8 text: encode the text as UTF-8 first`);
  }
  if (!secret && CONTROL.test(decoded)) throw fail(ctx, `${what} contains a control character (encoded as %00–%1F or %7F): remove it`);
  return decoded;
}

/** C0 controls and DEL: never part of a host, user, database or parameter anyone means. */
export const CONTROL = /[\u0000-\u001f\u007f]/;

/** Index of the first of `chars` at or after `from`, else the text's length. */
export function firstOf(text: string, chars: string, from: number): number {
  for (let i = from; i < text.length; i++) if (chars.includes(text[i] ?? "")) return i;
  return text.length;
}

/** Keeps a DSN shown in a message to one readable line. */
export function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
