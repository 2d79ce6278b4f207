/** HTTP Basic authentication against the bcrypt hashes of an exporter-toolkit web config. */
import { createHash } from "node:crypto";
import bcrypt from "bcryptjs";
import { createBcryptVerifier } from "./bcrypt-verifier.js";

/** The `WWW-Authenticate` value of a 401. */
export const BASIC_CHALLENGE = 'Basic realm="db-health"';

// Only successful pairs are remembered, so the cache holds about one entry per user; the cap
// only guards against something unforeseen (a hash that many passwords match, bcrypt's 72-byte
// truncation).
const MAX_REMEMBERED = 1024;

/** A check's outcome: `busy` when too many comparisons wait already (nothing was compared). */
export type AuthVerdict = "ok" | "denied" | "busy";

/** Options of {@link createBasicAuth}. */
export interface BasicAuthOptions {
  /** Comparisons queued or running at once; beyond it a check is `busy` at once. */
  maxPending: number;
  /** A comparison running longer than this (ms) fails, and its worker is replaced. */
  timeoutMs: number;
  /** The bcrypt worker script (tests). @default the built `bcrypt-worker.js` */
  workerUrl?: URL;
}

/** What {@link createBasicAuth} returns. */
export interface BasicAuth {
  /** Checks an `Authorization` header value; rejects only when the bcrypt worker failed. */
  check(authorization: string | undefined): Promise<AuthVerdict>;
  /** Stops the bcrypt worker. */
  close(): Promise<void>;
}

/**
 * Checks `Authorization` header values against bcrypt hashes. A comparison costs tens of
 * milliseconds of CPU at the usual cost factors, so it runs on a worker thread (see
 * bcrypt-verifier.ts) behind a bounded queue: wrong passwords, however many, never block the
 * event loop. Prometheus sends the same credentials every scrape, so each verified (user,
 * password) pair is remembered under a SHA-256 of the pair (never the password itself) and
 * answered without the worker; concurrent checks of one pair share one comparison.
 *
 * @example
 * ```ts
 * const auth = createBasicAuth(new Map([["prometheus", "$2b$10$…"]]), { maxPending: 16, timeoutMs: 30_000 });
 * const verdict = await auth.check(req.headers.authorization); // "ok" | "denied" | "busy"
 * if (verdict === "denied") res.writeHead(401, { "www-authenticate": BASIC_CHALLENGE }).end();
 * ```
 */
export function createBasicAuth(users: ReadonlyMap<string, string>, options: BasicAuthOptions): BasicAuth {
  const verified = new Map<string, string>();
  const pending = new Map<string, Promise<AuthVerdict>>();
  const rounds = Math.max(4, ...[...users.values()].map((h) => bcrypt.getRounds(h)));
  const verifier = createBcryptVerifier(options);

  const compare = async (user: string, password: string, key: string): Promise<AuthVerdict> => {
    const hash = users.get(user);
    // An unknown user is compared against a dummy hash at the configured cost in the worker,
    // so the response time does not tell which user names exist.
    const ok = await verifier.verify(password, hash, rounds);
    if (ok === "busy") return "busy";
    if (!ok || hash === undefined) return "denied";
    if (verified.size >= MAX_REMEMBERED) verified.clear();
    verified.set(key, hash);
    return "ok";
  };

  return {
    check: async (authorization) => {
      const credentials = parseBasic(authorization);
      if (!credentials) return "denied";
      const { user, password } = credentials;
      // A user name holds no ":", so "user:password" identifies the pair unambiguously.
      const key = createHash("sha256").update(`${user}:${password}`).digest("hex");
      const hash = users.get(user);
      if (hash !== undefined && verified.get(key) === hash) return "ok";
      let check = pending.get(key);
      if (!check) {
        check = compare(user, password, key).finally(() => pending.delete(key));
        pending.set(key, check);
      }
      return check;
    },
    close: () => verifier.close(),
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
