/**
 * What every DSN dialect parser shares: the parse context, error construction (always redacted),
 * password bookkeeping, query strings, ports and percent-decoding.
 */
import type { ParsedDsn } from "../dsn.js";
import { DbHealthError } from "../errors.js";
import { REDACTED, redact } from "../redact.js";
import type { Span } from "./spans.js";

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

/** `?key=value&…` between `from` and `to` into `parsed.params`; password keys into `parsed.password`. */
export function parseQuery(ctx: Ctx, parsed: ParsedDsn, from: number, to: number): void {
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

/** A port from 1 to 65535, or undefined for an empty one. `where` hides a non-numeric one in the error. */
export function parsePort(ctx: Ctx, raw: string, where?: Span): number | undefined {
  if (raw === "") return undefined;
  const port = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (port >= 1 && port <= 65535) return port;
  // A non-numeric "port" is often a password whose "@host" was forgotten: do not echo it.
  const shown = /^\d{1,5}$/.test(raw);
  throw fail(ctx, `the port must be a number from 1 to 65535${shown ? ` (got ${raw})` : ""}`, shown ? undefined : where);
}

export function setPassword(ctx: Ctx, parsed: ParsedDsn, start: number, end: number, decodeValue: (raw: string) => string): void {
  const raw = ctx.text.slice(start, end);
  parsed.password = decodeValue(raw);
  ctx.secrets.push(raw, parsed.password);
  if (end > start) ctx.spans.push([start, end]);
}

// defineProperty, so that a "__proto__" parameter is data, not a prototype change.
export function setParam(params: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(params, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A config error about the DSN being parsed, showing it redacted (ADO strings not at all). */
export function fail(ctx: Ctx, problem: string, hide?: Span): DbHealthError {
  // ADO strings are not shown at all: an unquoted ";" in a password splits it into parts
  // that no rule would recognise as secret.
  if (ctx.ado) return configError(`invalid ADO connection string: ${problem}`, ctx.secrets);
  const shown = hide ? ctx.text.slice(0, hide[0]) + REDACTED + ctx.text.slice(hide[1]) : ctx.text;
  return configError(`invalid DSN "${clip(redact(shown, ctx.secrets))}": ${problem}`, ctx.secrets);
}

export function configError(message: string, secrets: readonly string[] = []): DbHealthError {
  return new DbHealthError("config", message, { secrets });
}

export function decode(raw: string): string {
  // Decode each run of valid escapes on its own, so that a stray "%" (a password "100%") stays.
  return raw.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** Index of the first of `chars` at or after `from`, else the text's length. */
export function firstOf(text: string, chars: string, from: number): number {
  for (let i = from; i < text.length; i++) if (chars.includes(text[i] ?? "")) return i;
  return text.length;
}

/** Keeps a DSN shown in a message to one readable line. */
export function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
