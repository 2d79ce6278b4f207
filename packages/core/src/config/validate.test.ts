import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkTargetConfigs, configsOf } from "./check.js";
import { zodCheckTargetConfigs } from "./__fixtures__/zod-check.js";
import { validateTarget } from "./validate.js";

const PASSWORD = "Hunter2SecretLongPassword12345";

/** An object as YAML and JSON.parse make it: a `__proto__` key is an own property, not the prototype. */
function record(entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

const junk = [undefined, null, true, false, 0, -0, 1, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "", " ", "x", [], [1], {}, { a: 1 }];
const durations = [
  ...junk,
  "0", "0s", "1ms", "99ms", "100ms", "500ms", "1s", "1.5s", " 2s ", "2s", "10s", "59s", "1m", "1m30s", "2m", "10m", "10m1ms", "11m", "1h",
  "24h", "24h1ms", "25h", "576h", "577h", "5x", "1e3ms", "-1s", ".5s", "1.s", 0.5, 250, 1000, 60_000, 600_000, 600_001, 86_400_000,
  2_147_483_648, 1e-7, `postgres://u:${PASSWORD}@h/db`, `1s${PASSWORD}`,
];
const names = [...junk, "pg", "a", "a-1", "ok.name:1", "-x", "_x", "bad name", "x".repeat(63), "x".repeat(64), "é", `${"y".repeat(30)} ${PASSWORD}`];
const dsns = [
  ...junk,
  "postgres://app@db.internal:5432/app",
  "postgres://app@db.internal:5432/app",
  `postgres://u:${PASSWORD}@h/db`,
  "postgres://h:99999/db",
  "mysql://root@tcp(db:3306)/shop",
  "file:app.db",
  "sqlite:app.db",
  "Server=db;Database=x;User Id=sa;Password=pw",
  "Server=db;Password",
  "nope://x",
  "not a dsn",
];
const ints = [...junk, 2, 3, 100, 101, 2.5, "3", 1e21];
const checkItems = [
  ...junk,
  { name: "backlog", query: "SELECT 1" },
  { name: "backlog", query: "SELECT 2", max: 5 },
  { name: "Backlog", query: "SELECT 1" },
  { name: "Backlog", query: "" },
  { name: "q", query: " ".repeat(10_001) },
  { name: "q", query: "x".repeat(10_000) },
  { query: "SELECT 1" },
  { name: "q" },
  { name: "q", query: "SELECT 1", min: 2, max: 1 },
  { name: "q", query: "SELECT 1", min: Number.POSITIVE_INFINITY, max: 1 },
  { name: "q", query: "SELECT 1", min: "2", max: 1 },
  { name: "q", query: "SELECT 1", min: 2, max: 1, timeout: "5x" },
  { name: "q", query: "SELECT 1", min: -1.5, max: 2, timeout: "250ms" },
  { name: "q", query: "SELECT 1", timeout: "0s" },
  { name: "q", query: "SELECT 1", timeout: undefined, min: undefined },
  { name: "q", query: "SELECT 1", tiemout: "1s", maximum: 3 },
  record([["name", "q"], ["query", "SELECT 1"], ["__proto__", { min: 1 }], ["constructor", 1]]),
];
const unknownKeys = ["intervall", "conectTimeout", "read_timeout", "timeout", "x", "1", "__proto__", "constructor", "toString", "hasOwnProperty", "thresholds.readLatency"];

const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);
const thresholds = fc.oneof(
  pick(junk),
  fc
    .record(
      {
        pingLatency: pick(durations),
        readLatency: pick(durations),
        writeLatency: pick(durations),
        readLatncy: pick(durations),
        __proto__: pick(durations),
      },
      { requiredKeys: [] },
    )
    .map((r) => record(Object.entries(r))),
);
const checks = fc.oneof(
  { weight: 1, arbitrary: pick(junk) },
  { weight: 4, arbitrary: fc.array(pick(checkItems), { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.array(pick(checkItems.slice(junk.length, junk.length + 3)), { minLength: 31, maxLength: 34 }) },
  { weight: 1, arbitrary: fc.constant([, { name: "q", query: "SELECT 1" }] as unknown[]) },
);
/** A target: any subset of its fields, each good or bad, and sometimes an unknown key. */
const target = fc.oneof(
  { weight: 1, arbitrary: pick([...junk, `postgres://u:${PASSWORD}@h/db`]) },
  {
    weight: 12,
    arbitrary: fc
      .record(
        {
          dsn: pick(dsns),
          name: pick(names),
          role: pick([...junk, "primary", "replica", "auto", "Primary", "boss"]),
          cluster: pick(names),
          connectTimeout: pick(durations),
          readTimeout: pick(durations),
          writeTimeout: pick(durations),
          maxRetries: pick(ints),
          retryInterval: pick(durations),
          interval: pick(durations),
          createHealthTable: pick([...junk, "true", "false", "yes"]),
          writeCheck: pick([...junk, "auto", "always", "never", "sometimes"]),
          connection: pick([...junk, "persistent", "per-cycle", "per_cycle"]),
          thresholds,
          maxReplicationLag: pick(durations),
          probeId: pick([...names, "host/pg", "a\nb", "x".repeat(128), "x".repeat(129), "\u2028"]),
          healthTable: pick([...names, "_health_check", "1table", "t-1"]),
          schema: pick([...names, "public", "dbo"]),
          pruneAfter: pick(durations),
          checks,
        },
        { requiredKeys: [] },
      )
      .chain((fields) =>
        fc.subarray(unknownKeys, { maxLength: 2 }).map((extra) => record([...Object.entries(fields), ...extra.map((k) => [k, 1] as const)])),
      ),
  },
);
/** Mostly valid targets, so that settings and resolved configurations are compared too. */
const validTarget = fc
  .record(
    {
      dsn: pick(["postgres://app@db.internal:5432/app", "file:app.db", "mysql://root@tcp(db:3306)/shop", `postgres://u:${PASSWORD}@h/db`]),
      name: pick(["pg", "a-1", undefined]),
      role: pick(["primary", "replica", "auto"]),
      cluster: pick(["c1", undefined]),
      connectTimeout: pick(["1s", 500, "10m"]),
      readTimeout: pick(["1s", 3000, "2s"]),
      writeTimeout: pick(["1s", 3000]),
      maxRetries: pick([0, 3, 100]),
      retryInterval: pick(["0s", 0, "1s"]),
      interval: pick(["100ms", "30s", "1m", 15_000]),
      createHealthTable: fc.boolean(),
      writeCheck: pick(["auto", "always", "never"]),
      connection: pick(["persistent", "per-cycle"]),
      thresholds: pick([{}, { readLatency: "500ms" }, { pingLatency: 100, writeLatency: "1s" }, undefined]),
      maxReplicationLag: pick(["10s", 0.5, undefined]),
      probeId: pick(["host/pg", undefined]),
      healthTable: pick(["_health_check", "t1"]),
      schema: pick(["public", undefined]),
      pruneAfter: pick(["1m", "24h", 3_600_000]),
      checks: fc.array(pick(checkItems.slice(junk.length, junk.length + 2).concat([{ name: "c", query: "SELECT 3", min: -1.5, max: 2, timeout: "250ms" }])), { maxLength: 2 }),
    },
    { requiredKeys: ["dsn"] },
  )
  .map((r) => record(Object.entries(r)));

/** The resolved configurations of a check without problems, as resolveTargetConfigs makes them. */
const resolved = (check: ReturnType<typeof checkTargetConfigs>) => (check.problems.length === 0 ? configsOf(check, () => "postgres") : undefined);

describe("validateTarget: the same results as the zod schema it replaces", () => {
  it("for generated targets: every problem (path, message, related, order), setting and parsed DSN", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof({ weight: 3, arbitrary: target }, { weight: 1, arbitrary: validTarget }), { minLength: 1, maxLength: 4 }), (inputs) => {
        const now = checkTargetConfigs(inputs);
        const before = zodCheckTargetConfigs(inputs);
        expect(now).toStrictEqual(before);
        expect(resolved(now)).toStrictEqual(resolved(before));
      }),
      { numRuns: 3000 },
    );
  });

  it("for valid targets: the same resolved configurations", () => {
    let resolvedCount = 0;
    fc.assert(
      fc.property(fc.array(validTarget, { minLength: 1, maxLength: 3 }), (inputs) => {
        const now = checkTargetConfigs(inputs);
        expect(now).toStrictEqual(zodCheckTargetConfigs(inputs));
        const configs = resolved(now);
        if (configs) resolvedCount++;
        expect(configs).toStrictEqual(resolved(zodCheckTargetConfigs(inputs)));
      }),
      { numRuns: 1000 },
    );
    // Most valid targets resolve (the others break a rule between fields, or share a name).
    expect(resolvedCount).toBeGreaterThan(300);
  });

  it.each<[string, unknown]>([
    ["not a list item", "postgres://h/db"],
    ["undefined", undefined],
    ["an empty object", {}],
    ["prototype keys from YAML", record([["dsn", "file:app.db"], ["__proto__", { interval: "1s" }], ["constructor", { name: "x" }], ["toString", 1]])],
    ["an object without prototype", Object.assign(Object.create(null) as object, { dsn: "file:app.db", interval: "30s" })],
    ["a prototype with enumerable keys", Object.assign(Object.create({ intervall: 1, name: "from-proto" }) as object, { dsn: "file:app.db" })],
    ["undefined fields", { dsn: "file:app.db", name: undefined, thresholds: undefined, checks: undefined, interval: undefined }],
    ["a sparse checks list", { dsn: "file:app.db", checks: [, { name: "q", query: "SELECT 1" }] }],
    ["33 checks with one name", { dsn: "file:app.db", checks: Array.from({ length: 33 }, () => ({ name: "Q", query: "" })) }],
    ["everything wrong", { dsn: 5, name: 5, role: 5, cluster: "-", connectTimeout: "0s", readTimeout: "11m", writeTimeout: true, maxRetries: "3", thresholds: [], checks: {}, pruneAfter: "30s", interval: "1m", intervall: 1 }],
  ])("for %s", (_label, input) => {
    expect(checkTargetConfigs([input, input])).toStrictEqual(zodCheckTargetConfigs([input, input]));
  });
});

describe("validateTarget", () => {
  it("reports fields in order, then unknown keys, then the rules between fields", () => {
    const { problems, settings } = validateTarget({ dsn: "file:app.db", intervall: 1, pruneAfter: "1m", interval: "1m", role: "boss" });
    expect(problems.map((p) => p.path)).toEqual([["role"], ["intervall"], ["pruneAfter"]]);
    expect(settings).toBeUndefined();
  });

  it("returns settings with a rule between fields broken, and the DSN with a field wrong", () => {
    expect(validateTarget({ dsn: "file:app.db", interval: "1m", pruneAfter: "1m" }).settings).toMatchObject({ interval: 60_000 });
    expect(validateTarget({ dsn: "file:app.db", role: "boss" }).dsn).toMatchObject({ scheme: "file" });
  });
});

describe("what loads zod", () => {
  it("nothing that core's index imports (zod is for the reference schemas and the tests)", () => {
    const seen = new Set<string>();
    const zod: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, spec] of readFileSync(file, "utf8").matchAll(/\b(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
        if (spec === "zod" || spec!.startsWith("zod/")) zod.push(file);
        else if (spec!.startsWith(".")) visit(resolve(dirname(file), spec!.replace(/\.js$/, ".ts")));
      }
    };
    visit(join(dirname(fileURLToPath(import.meta.url)), "..", "index.ts"));
    expect(seen.size).toBeGreaterThan(20);
    expect(zod).toEqual([]);
  });
});
