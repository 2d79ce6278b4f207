/** HTTP Basic authentication against the bcrypt hashes of an exporter-toolkit web config. */
import { createHash, randomBytes } from "node:crypto";
import bcrypt from "bcryptjs";

/** The `WWW-Authenticate` value of a 401. */
export const BASIC_CHALLENGE = 'Basic realm="db-health"';

// Only successful pairs are remembered, so the cache holds about one entry per user; the cap
// only guards against something unforeseen (a hash that many passwords match, bcrypt's 72-byte
// truncation).
const MAX_REMEMBERED = 1024;

/**
 * Returns a checker for `Authorization` header values. A bcrypt comparison costs tens of
 * milliseconds of CPU at the usual cost factors, and Prometheus sends the same credentials
 * every scrape, so each verified (user, password) pair is remembered under a SHA-256 of the
 * pair (never the password itself), and concurrent checks of one pair share one comparison.
 *
 * @example
 * ```ts
 * const authorized = createBasicAuth(new Map([["prometheus", "$2b$10$…"]]));
 * if (!(await authorized(req.headers.authorization))) res.writeHead(401, { "www-authenticate": BASIC_CHALLENGE }).end();
 * ```
 */
export function createBasicAuth(users: ReadonlyMap<string, string>): (authorization: string | undefined) => Promise<boolean> {
  const verified = new Map<string, string>();
  const pending = new Map<string, Promise<boolean>>();
  let dummy: Promise<string> | undefined;
  const rounds = Math.max(4, ...[...users.values()].map((h) => bcrypt.getRounds(h)));

  const compare = async (user: string, password: string, key: string): Promise<boolean> => {
    const hash = users.get(user);
    // An unknown user still pays one comparison at the configured cost, so the response time
    // does not tell which user names exist.
    dummy ??= bcrypt.hash(randomBytes(16).toString("hex"), rounds);
    const ok = await bcrypt.compare(password, hash ?? (await dummy));
    if (!ok || hash === undefined) return false;
    if (verified.size >= MAX_REMEMBERED) verified.clear();
    verified.set(key, hash);
    return true;
  };

  return async (authorization) => {
    const credentials = parseBasic(authorization);
    if (!credentials) return false;
    const { user, password } = credentials;
    // A user name holds no ":", so "user:password" identifies the pair unambiguously.
    const key = createHash("sha256").update(`${user}:${password}`).digest("hex");
    const hash = users.get(user);
    if (hash !== undefined && verified.get(key) === hash) return true;
    let check = pending.get(key);
    if (!check) {
      check = compare(user, password, key).finally(() => pending.delete(key));
      pending.set(key, check);
    }
    return check;
  };
}

/**
 * Splits an `Authorization: Basic …` value into user and password; undefined when it is not one.
 *
 * @example
 * ```ts
 * parseBasic("Basic " + Buffer.from("u:p:w").toString("base64")); // { user: "u", password: "p:w" }
 * ```
 */
export function parseBasic(authorization: string | undefined): { user: string; password: string } | undefined {
  const m = /^basic[ \t]+([A-Za-z0-9+/=._~-]+)[ \t]*$/i.exec(authorization ?? "");
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
