import { redact } from "./redact.js";

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
  /** The client library's original error. Its message is not copied unredacted. */
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
    super(redact(message, options.secrets), options.cause === undefined ? undefined : { cause: options.cause });
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
  } else {
    text = String(err);
  }
  return redact(text.replace(/\s*\n\s*/g, " ").trim(), secrets);
}
