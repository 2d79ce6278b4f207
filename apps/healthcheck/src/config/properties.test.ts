import fc from "fast-check";
import { stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { isDbHealthError } from "@alfred/db-health-core";
import { tempDir } from "./__fixtures__/helpers.js";
import { resolveCli } from "./resolve.js";

// The configuration loader under random input: YAML documents built from random values under the
// real keys (and some unknown ones), random text, and random environment variables. Whatever
// comes in, resolveCli returns a plan or throws a config DbHealthError, and no error shows the
// password that the input carried.
const RUNS = { numRuns: Math.max(200, Math.floor(Number(process.env.DB_HEALTH_FUZZ_RUNS ?? 2000) / 4)) };
const tmp = tempDir();
afterAll(() => tmp.cleanup());
const OPTIONS = { writeOut: () => undefined, checkDrivers: false };

const password = fc.string({ minLength: 4, maxLength: 16, unit: fc.constantFrom(..."abcXYZ019@:/?#%;= {}".split("")) }).map((s) => `Pw#${s}`);
const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer({ min: -5, max: 100_000 }), fc.boolean(), fc.constant(null), fc.constantFrom("5s", "100ms", "1m30s", "auto", "primary"));
const key = fc.constantFrom("name", "dsn", "dsnFile", "passwordFile", "interval", "readTimeout", "connectTimeout", "maxRetries", "role", "writeCheck", "thresholds", "probeId", "healthTable", "schema", "pruneAfter", "password", "bogus");
const target = fc.dictionary(key, fc.oneof(scalar, fc.dictionary(fc.constantFrom("readLatency", "pingLatency", "x"), scalar, { maxKeys: 2 })), { maxKeys: 6 });
const document = fc.record(
  {
    listen: scalar,
    logLevel: scalar,
    probeCacheInterval: scalar,
    plugins: fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }),
    defaults: fc.dictionary(key, scalar, { maxKeys: 4 }),
    targets: fc.oneof(fc.array(target, { maxLength: 4 }), scalar),
    colour: scalar,
  },
  { requiredKeys: [] },
);

async function expectConfigErrorOnly(argv: string[], env: NodeJS.ProcessEnv, pw: string): Promise<void> {
  try {
    await resolveCli(argv, env, "1.0.0", OPTIONS);
  } catch (err) {
    if (!(isDbHealthError(err) && err.kind === "config")) throw err;
    for (const spelled of [pw, encodeURIComponent(pw)]) expect(err.message).not.toContain(spelled);
  }
}

describe("configuration loader properties", () => {
  it("random YAML documents: a plan or a config error, never the password", async () => {
    let i = 0;
    await fc.assert(
      fc.asyncProperty(document, password, fc.nat({ max: 3 }), async (doc, pw, where) => {
        // the password lands in a DSN, under an unknown key, or in a defaults value
        const withSecret = { ...doc, targets: [...(Array.isArray(doc.targets) ? doc.targets : []), { dsn: `postgres://app:${encodeURIComponent(pw)}@db/app`, ...(where === 1 ? { password: pw } : {}) }] };
        if (where === 2) (withSecret as Record<string, unknown>)["defaults"] = { ...doc.defaults, probeId: pw };
        const file = tmp.write(`doc-${i++}.yaml`, stringify(withSecret));
        await expectConfigErrorOnly(["config", "check", file], {}, pw);
        await expectConfigErrorOnly(["--once", "--config", file], { DB_HEALTH_READ_TIMEOUT: where === 3 ? pw : "1s" }, pw);
      }),
      RUNS,
    );
  });

  it("random text as a YAML file: a config error at worst", async () => {
    let i = 0;
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200, unit: fc.constantFrom(..."ab:- \n\t[]{}&*!|>'\"%@#,?".split("")) }), async (text) => {
        await expectConfigErrorOnly(["config", "check", tmp.write(`text-${i++}.yaml`, text)], {}, "\u0000never");
      }),
      RUNS,
    );
  });
});
