/**
 * The tokens of the health-table protocol. A prober writes a fresh token each cycle and reads it
 * back. Probers may share a probe id (three daemons given the same `--probe-id`, a daemon and a
 * `--once` on one host): their writes to the one row then interleave, and a prober reading back
 * right after another one wrote would see a token that is not its own. So the row keeps the
 * latest few tokens, newest first, and a read-back passes when it holds the caller's own token:
 * the table still has one row per prober id, and a stale or lost write is still caught (a fresh
 * token is in no older version of the row).
 */
import { randomBytes } from "node:crypto";

/**
 * Width of the stored token list: the write keeps `left(new || ' ' || old, 64)`, which is five
 * whole tokens (12 characters each, space-separated). The health table's `token` column must
 * hold 64 characters.
 */
export const TOKEN_HISTORY_LENGTH = 64;

/**
 * A fresh token: 12 characters of base64url (72 random bits), never containing a space.
 *
 * @example
 * ```ts
 * const token = healthToken(); // e.g. "Zq3x_0aB9-kL"
 * ```
 */
export function healthToken(): string {
  return randomBytes(9).toString("base64url");
}

/**
 * Whether the token list a read returned holds `token`. A plain token (a driver that stores
 * only the latest) counts too: the list of one.
 *
 * @example
 * ```ts
 * holdsToken("Zq3x_0aB9-kL 7hQ2mN0pX1yZ", "7hQ2mN0pX1yZ"); // true
 * holdsToken("Zq3x_0aB9-kL", "7hQ2mN0pX1yZ");              // false
 * ```
 */
export function holdsToken(stored: string | undefined, token: string): boolean {
  return stored !== undefined && stored.split(" ").includes(token);
}
