/**
 * How a user's value appears in an error message: redacted first, then cut to one short line.
 * The order matters: cutting first can remove the "@" or "=" a redaction rule needs, and a long
 * `postgres://u:password@h/db` cut before its "@" no longer looks like a URL with a password.
 */
import { redact } from "../redact/redact.js";

// Long enough to recognise the value, short enough to keep a message on one line.
const MAX_SHOWN = 40;

// Literal secrets (the target's DSN password) to hide as well. Set only around synchronous work
// (a target check builds its messages before it returns), so that every message built meanwhile,
// however deep, hides them without each rule passing them on.
let ambientSecrets: readonly string[] = [];

/** How {@link describeValue} quotes. */
export interface DescribeOptions {
  /**
   * `"strings"`: strings quoted, other scalars bare (`got "x"`, `got 5`, `got null`).
   * `"always"`: every scalar quoted, for messages that frame the value (`invalid duration "5"`).
   * @default "strings"
   */
  quote?: "strings" | "always";
}

/**
 * A value as shown in a message: strings redacted, cut to 40 characters and JSON-quoted;
 * lists and objects only named, as their contents could be anything.
 *
 * @example
 * ```ts
 * describeValue("postgres://u:Hunter2SecretLongPassword12345@h/db"); // "\"postgres://u:***@h/db\""
 * describeValue(5);                      // "5"
 * describeValue(5, { quote: "always" }); // "\"5\""
 * describeValue([1]);                    // "a list"
 * ```
 */
export function describeValue(value: unknown, options: DescribeOptions = {}): string {
  if (Array.isArray(value)) return "a list";
  if (typeof value === "function") return "a function";
  if (value !== null && typeof value === "object") return "an object";
  if (typeof value !== "string" && options.quote !== "always") return String(value);
  const text = redact(String(value), ambientSecrets);
  return JSON.stringify(text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text);
}

/**
 * Runs `fn` with `secrets` redacted from every value {@link describeValue} shows meanwhile, so
 * that a password pasted into another field is hidden before the cut, not only after it.
 *
 * @example
 * ```ts
 * const result = withSecrets(dsnSecrets(dsn), () => schema.safeParse(input));
 * ```
 */
export function withSecrets<T>(secrets: readonly string[], fn: () => T): T {
  const outer = ambientSecrets;
  ambientSecrets = [...outer, ...secrets];
  try {
    return fn();
  } finally {
    ambientSecrets = outer;
  }
}
