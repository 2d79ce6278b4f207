import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveTargetConfig } from "../config/config.js";
import { describeDsn, dsnSecrets, parseDsn, redactDsn } from "../dsn/dsn.js";
import { formatDuration, parseDuration } from "../config/duration.js";
import { isDbHealthError } from "../contract/errors.js";
import { createRedactor, redact } from "./redact.js";

// Property tests: whatever the input, no unexpected exception, and the invariants hold.
const RUNS = { numRuns: Number(process.env.DB_HEALTH_FUZZ_RUNS ?? 2000) };
// "P#" first: a password can then never also be a piece of the user, host or path it is checked against.
const password = fc
  .string({ minLength: 1, maxLength: 22, unit: fc.constantFrom(..."abcXYZ019@:/?#%;= !'\"{}[]&+~é".split("")) })
  .map((s) => `P#${s}`);
const user = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/);
const host = fc.constantFrom("db", "db.internal", "127.0.0.1", "[::1]");

describe("properties", () => {
  it("redact never throws and is idempotent", () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => {
      const once = redact(text);
      expect(redact(once)).toBe(once);
    }), RUNS);
  });

  it("a DSN's password never survives its own redaction, in any scheme, for any password", () => {
    fc.assert(
      fc.property(fc.constantFrom("postgres", "mysql", "sqlserver"), user, password, host, (scheme, u, pw, h) => {
        const dsn = `${scheme}://${u}:${encodeURIComponent(pw)}@${h}:1234/app`;
        const parsed = parseDsn(dsn);
        expect(parsed.password).toBe(pw);
        const clean = createRedactor(dsnSecrets(dsn));
        for (const out of [redactDsn(dsn), describeDsn(dsn), clean(`connect to ${dsn} failed (password ${pw})`)]) {
          expect(out).not.toContain(encodeURIComponent(pw));
          expect(clean(out)).not.toContain(pw);
        }
        expect(describeDsn(dsn)).toContain(u);
      }),
      RUNS,
    );
  });

  it("no piece of a hostile password survives, in any dialect, with or without a scheme, written raw", () => {
    // Markers at both ends: a password cut in two (the rest taken for a host, a key, a quote's
    // end) leaves one of them behind, which a check for the whole password would miss.
    const marker = fc.stringMatching(/^[0-9]{5}$/);
    const middle = fc.string({ minLength: 0, maxLength: 16, unit: fc.constantFrom(..." \t'\";=@:/?#&%{}()\\,äé🔑ab".split(/(?:)/u)) });
    const forms: Array<(pw: string) => string> = [
      (pw) => `postgres://app:${pw}@db:5432/orders`,
      (pw) => `mysql://app:${pw}@tcp(db:3306)/shop`,
      (pw) => `sqlserver://sa:${pw}@db:1433/master`,
      (pw) => `app:${pw}@tcp(db:3306)/shop`,
      (pw) => `app:${pw}@db:5432/orders`,
      (pw) => `postgres//app:${pw}@db/orders`,
      (pw) => `postgres:/app:${pw}@db/orders`,
      (pw) => `"postgres://app:${pw}@db/orders"`,
      (pw) => `host=db password='${pw}' user=app`,
      (pw) => `host=db password="${pw}" user=app`,
      (pw) => `host=db user=app password=${pw}`,
      (pw) => `Server=db;User Id=sa;Password={${pw.replace(/\}/g, "}}")}};Encrypt=true`,
      (pw) => `Server=db;User Id=sa;Password="${pw.replace(/"/g, '""')}";Encrypt=true`,
      (pw) => `postgres://db/orders?sslmode=require&password=${pw}`,
      (pw) => `postgres://db/orders?pass%77ord=${pw}`,
      (pw) => `app:/${pw}@db:5432/orders`,
      (pw) => `host=db password='${pw} user=app'`,
      (pw) => `file:/tmp/app.db?password=${pw}`,
    ];
    fc.assert(
      fc.property(marker, middle, marker, fc.integer({ min: 0, max: forms.length - 1 }), (head, mid, tail, form) => {
        const [start, end] = [`Hd${head}`, `Tl${tail}`];
        const dsn = forms[form]!(`${start}${mid}${end}`);
        let error = "";
        try {
          parseDsn(dsn);
        } catch (err) {
          expect(isDbHealthError(err) && err.kind === "config").toBe(true);
          error = (err as Error).message;
        }
        const clean = createRedactor(dsnSecrets(dsn));
        for (const out of [error, redactDsn(dsn), describeDsn(dsn), clean(`connect failed for ${dsn}: timeout`)]) {
          for (const piece of [start, end]) expect(out, `${dsn} → ${out}`).not.toContain(piece);
        }
      }),
      RUNS,
    );
  });

  it("DSNs: parse, format (redactDsn) and parse again keeps every part but the password; formatting is idempotent", () => {
    const word = fc.stringMatching(/^[A-Za-z0-9_.-]{1,10}$/);
    const value = fc.string({ minLength: 1, maxLength: 12, unit: fc.constantFrom(..."ab09 /:@&=+%é".split("")) });
    fc.assert(
      fc.property(
        fc.constantFrom("postgres", "postgresql", "mysql", "mariadb", "sqlserver"),
        user,
        fc.option(password, { nil: undefined }),
        host,
        fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
        fc.option(word, { nil: undefined }),
        fc.dictionary(fc.constantFrom("sslmode", "application_name", "charset", "connect_timeout", "encrypt"), value, { maxKeys: 3 }),
        (scheme, u, pw, h, port, db, params) => {
          const query = new URLSearchParams(params).toString();
          const dsn = `${scheme}://${u}${pw === undefined ? "" : `:${encodeURIComponent(pw)}`}@${h}${port ? `:${port}` : ""}/${db ?? ""}${query ? `?${query}` : ""}`;
          const first = parseDsn(dsn);
          const formatted = redactDsn(dsn);
          expect(redactDsn(formatted)).toBe(formatted);
          const again = parseDsn(formatted);
          const { password: p1, ...rest1 } = first;
          const { password: p2, ...rest2 } = again;
          expect(rest2).toEqual(rest1);
          expect(p1).toBe(pw);
          if (pw !== undefined) expect(p2).not.toBe(pw);
          else expect(p2).toBeUndefined();
        },
      ),
      RUNS,
    );
  });

  it("parseDsn either parses or throws a config DbHealthError, never anything else", () => {
    fc.assert(fc.property(fc.string({ maxLength: 120 }), (text) => {
      try {
        parseDsn(text);
      } catch (err) {
        expect(isDbHealthError(err) && err.kind === "config").toBe(true);
      }
    }), RUNS);
  });

  it("durations: format then parse gives the same milliseconds; junk gives a config error", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 86_400_000 }), (ms) => {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }), RUNS);
    fc.assert(fc.property(fc.string({ maxLength: 20 }), (text) => {
      try {
        expect(parseDuration(text)).toBeGreaterThanOrEqual(0);
      } catch (err) {
        expect(isDbHealthError(err) && err.kind === "config").toBe(true);
      }
    }), RUNS);
  });

  it("resolveTargetConfig on arbitrary objects fails only with a config error that shows no password", () => {
    const value = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(password, fc.dictionary(fc.constantFrom("interval", "readTimeout", "maxRetries", "role", "name", "probeId", "bogus"), value), (pw, extra) => {
        const dsn = `postgres://app:${encodeURIComponent(pw)}@db/app`;
        try {
          resolveTargetConfig({ dsn, ...extra });
        } catch (err) {
          expect(isDbHealthError(err) && err.kind === "config").toBe(true);
          expect((err as Error).message).not.toContain(encodeURIComponent(pw));
        }
      }),
      { numRuns: 1000 },
    );
  });
});
