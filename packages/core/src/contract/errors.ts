import { redact } from "../redact/redact.js";

/** What went wrong, coarse enough to act on. */
export type ErrorKind =
  | "config"
  | "connect"
  | "auth"
  | "timeout"
  | "query"
  | "permission"
  | "readonly"
  | "verify"
  | "contract";

/** Options for {@link DbHealthError}. */
export interface DbHealthErrorOptions {
  /** Name of the driver that raised the error (`"postgres"`, `"sqlite"`…). */
  driver?: string;
  /**
   * The client library's original error. It is kept as `cause` in redacted form (message,
   * stack and string fields redacted; `code`, `errno` and such kept), because `console.error`
   * and loggers print the cause chain.
   */
  cause?: unknown;
  /** Literal secrets (passwords) to strip from the message in addition to the generic rules. */
  secrets?: readonly string[];
}

/**
 * The one error class of db-health. Its message is always redacted: it never contains a
 * password, a `password=` parameter or a DSN's userinfo, whatever the client library said.
 *
 * @example
 * ```ts
 * throw new DbHealthError("auth", "password authentication failed", { driver: "postgres", cause: err });
 * ```
 */
export class DbHealthError extends Error {
  override readonly name = "DbHealthError";
  readonly kind: ErrorKind;
  readonly driver: string | undefined;

  constructor(kind: ErrorKind, message: string, options: DbHealthErrorOptions = {}) {
    const clean = (text: string): string => redact(text, options.secrets);
    super(clean(message), options.cause === undefined ? undefined : { cause: redactError(options.cause, clean) });
    this.kind = kind;
    this.driver = options.driver;
  }
}

/** True for a {@link DbHealthError}, also one thrown by another copy of core. */
export function isDbHealthError(err: unknown): err is DbHealthError {
  return err instanceof Error && err.name === "DbHealthError" && typeof (err as DbHealthError).kind === "string";
}

/**
 * Turns anything thrown into a one-line redacted message, for logs and reports.
 *
 * @example
 * ```ts
 * log.warn({ err: errorMessage(e, [password]) });
 * ```
 */
export function errorMessage(err: unknown, secrets?: readonly string[]): string {
  let text: string;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    text = err.message || String(code ?? err.name);
    if (typeof code === "string" && code && !text.includes(code)) text = `${text} (${code})`;
  } else if (typeof err === "object" && err !== null && typeof (err as { message?: unknown }).message === "string") {
    // A thrown non-Error with a message (some drivers throw plain objects): its message, not "[object Object]".
    text = (err as { message: string }).message;
  } else {
    text = String(err);
  }
  return redact(text.replace(/\s*\n\s*/g, " ").trim(), secrets);
}

/**
 * A copy of a thrown value that is safe to print: an `Error` keeps its name, `code`, `errno`
 * and other plain fields, with its message, stack and every string field redacted, and its
 * `cause`/`errors` redacted the same way; other object fields (sockets, clients) are dropped.
 *
 * @example
 * ```ts
 * const safe = redactError(err, createRedactor([password]));
 * console.error(safe); // prints no password, however deep the cause chain
 * ```
 */
export function redactError(err: unknown, clean: (text: string) => string = (t) => redact(t), depth = 0): unknown {
  if (typeof err === "string") return clean(err);
  if (!(err instanceof Error)) return err === null || typeof err !== "object" ? err : undefined;
  // Always a fresh copy: a cause redacted once with generic rules may still hold a literal
  // secret that only a target's own redactor knows.
  if (depth > 5) return undefined;
  const copy = new Error(clean(err.message)) as Error & Record<string, unknown>;
  Object.defineProperty(copy, "name", { value: err.name, configurable: true, writable: true });
  copy.stack = err.stack === undefined ? undefined : clean(err.stack);
  for (const [key, value] of Object.entries(err)) {
    if (typeof value === "string") copy[key] = clean(value);
    else if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") copy[key] = value;
    else if (value instanceof Error) copy[key] = redactError(value, clean, depth + 1);
    else if (Array.isArray(value) && value.every((v) => v instanceof Error)) copy[key] = value.map((v) => redactError(v, clean, depth + 1));
  }
  // AggregateError (one error per address tried) keeps its list in a non-enumerable field.
  const errors = (err as { errors?: unknown }).errors;
  if (Array.isArray(errors)) {
    Object.defineProperty(copy, "errors", { value: errors.map((v) => redactError(v, clean, depth + 1)), configurable: true, writable: true });
  }
  if ("cause" in err && err.cause !== undefined) {
    Object.defineProperty(copy, "cause", { value: redactError(err.cause, clean, depth + 1), configurable: true, writable: true });
  }
  return copy;
}
