import { hostname } from "node:os";
import { describe, expect, expectTypeOf, it } from "vitest";
import type * as z from "zod";
import {
  DEFAULTS,
  engineForScheme,
  resolveTargetConfig,
  resolveTargetConfigs,
  targetOptionsSchema,
  type TargetConfig,
  type TargetOptions,
} from "./config.js";
import { isDbHealthError } from "../contract/errors.js";

const PG = "postgres://app@db.internal:5432/app";

/** The message of the config error thrown by fn (fails the test if fn does not throw one). */
function problems(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isDbHealthError(err)).toBe(true);
    expect(err).toMatchObject({ kind: "config" });
    return (err as Error).message;
  }
  throw new Error("expected a config error");
}

describe("resolveTargetConfig: defaults", () => {
  it("applies every default and derives name and probeId", () => {
    const config = resolveTargetConfig({ dsn: PG });
    expect(config).toEqual({
      name: "postgres",
      dsn: PG,
      role: "auto",
      connectTimeout: 5000,
      readTimeout: 2000,
      writeTimeout: 2000,
      maxRetries: 3,
      retryInterval: 1000,
      interval: 15_000,
      createHealthTable: true,
      writeCheck: "auto",
      connection: "persistent",
      thresholds: {},
      probeId: `${hostname()}/postgres`,
      healthTable: "_health_check",
      pruneAfter: 86_400_000,
      checks: [],
    } satisfies TargetConfig);
    expect(config).not.toHaveProperty("schema");
    expect(config).not.toHaveProperty("maxReplicationLag");
  });

  it("DEFAULTS matches what is applied and is frozen", () => {
    const { name: _n, dsn: _d, thresholds: _t, probeId: _p, checks: _c, ...applied } = resolveTargetConfig({ dsn: PG });
    expect(applied).toEqual(DEFAULTS);
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
  });

  it("keeps every explicit value, durations converted to milliseconds", () => {
    const options: TargetOptions = {
      dsn: PG,
      name: "orders-db.eu:1",
      role: "replica",
      connectTimeout: "10s",
      readTimeout: "1m30s",
      writeTimeout: 750,
      maxRetries: 0,
      retryInterval: "0",
      interval: "100ms",
      createHealthTable: false,
      writeCheck: "never",
      connection: "per-cycle",
      thresholds: { pingLatency: "50ms", readLatency: 100.5, writeLatency: "0.5s" },
      maxReplicationLag: "30s",
      probeId: "pod-7/orders",
      healthTable: "hc",
      schema: "monitoring",
      pruneAfter: "1m",
      checks: [{ name: "backlog", query: "SELECT count(*) FROM jobs", min: 0, max: 1000, timeout: "1s" }, { name: "lag", query: "SELECT 1" }],
    };
    expect(resolveTargetConfig(options)).toEqual({
      dsn: PG,
      name: "orders-db.eu:1",
      role: "replica",
      connectTimeout: 10_000,
      readTimeout: 90_000,
      writeTimeout: 750,
      maxRetries: 0,
      retryInterval: 0,
      interval: 100,
      createHealthTable: false,
      writeCheck: "never",
      connection: "per-cycle",
      thresholds: { pingLatency: 50, readLatency: 100.5, writeLatency: 500 },
      maxReplicationLag: 30_000,
      probeId: "pod-7/orders",
      healthTable: "hc",
      schema: "monitoring",
      pruneAfter: 60_000,
      checks: [
        { name: "backlog", query: "SELECT count(*) FROM jobs", min: 0, max: 1000, timeout: 1000 },
        { name: "lag", query: "SELECT 1", timeout: 90_000 },
      ],
    });
  });

  it("treats explicit undefined like a missing key", () => {
    expect(resolveTargetConfig({ dsn: PG, readTimeout: undefined }).readTimeout).toBe(2000);
  });

  it("accepts the bounds themselves", () => {
    const c = resolveTargetConfig({ dsn: PG, connectTimeout: "10m", maxRetries: 100, interval: 100, name: "a".repeat(63) });
    expect(c).toMatchObject({ connectTimeout: 600_000, maxRetries: 100, interval: 100 });
    expect(resolveTargetConfig({ dsn: PG, interval: "24h", retryInterval: "10m", pruneAfter: "576h" })).toMatchObject({
      interval: 86_400_000,
      retryInterval: 600_000,
      pruneAfter: 2_073_600_000,
    });
    expect(resolveTargetConfig({ dsn: PG, pruneAfter: "1m", maxReplicationLag: "576h" })).toMatchObject({
      pruneAfter: 60_000,
      maxReplicationLag: 2_073_600_000,
    });
    expect(resolveTargetConfig({ dsn: PG, probeId: "é".repeat(128) }).probeId).toHaveLength(128);
  });
});

describe("resolveTargetConfig: field validation", () => {
  it.each<[string, Record<string, unknown>, string]>([
    ["missing dsn", { dsn: undefined }, "dsn: is required: the database to probe"],
    ["empty dsn", { dsn: "" }, "dsn: must not be empty"],
    ["blank dsn", { dsn: "   " }, "dsn: must not be empty"],
    ["dsn not a string", { dsn: 5 }, "dsn: must be a string, got 5"],
    ["name with a space", { name: "my db" }, 'name: "my db" is not a valid name: use 1–63 letters'],
    ["name starting with -", { name: "-db" }, 'name: "-db" is not a valid name'],
    ["name too long", { name: "a".repeat(64) }, "is not a valid name"],
    ["empty name", { name: "" }, 'name: "" is not a valid name'],
    ["name not a string", { name: 7 }, "name: must be a string, got 7"],
    ["role", { role: "master" }, 'role: must be one of "primary", "replica", "auto", got "master"'],
    ["connectTimeout unit", { connectTimeout: "5x" }, 'connectTimeout: invalid duration "5x": use a number with a unit, e.g. 500ms, 2s, 1m'],
    ["connectTimeout zero", { connectTimeout: 0 }, "connectTimeout: must be more than 0s and at most 10m, got 0s"],
    ["readTimeout too long", { readTimeout: "11m" }, "readTimeout: must be more than 0s and at most 10m, got 11m"],
    ["writeTimeout negative", { writeTimeout: "-1s" }, 'writeTimeout: invalid duration "-1s"'],
    ["writeTimeout wrong type", { writeTimeout: true }, 'writeTimeout: invalid duration "true"'],
    ["maxRetries fraction", { maxRetries: 1.5 }, "maxRetries: must be a whole number from 0 to 100, got 1.5"],
    ["maxRetries too many", { maxRetries: 101 }, "maxRetries: must be a whole number from 0 to 100, got 101"],
    ["maxRetries negative", { maxRetries: -1 }, "maxRetries: must be a whole number from 0 to 100, got -1"],
    ["maxRetries as string", { maxRetries: "3" }, 'maxRetries: must be a whole number from 0 to 100, got "3"'],
    ["retryInterval", { retryInterval: "soon" }, 'retryInterval: invalid duration "soon"'],
    ["interval too short", { interval: "99ms" }, "interval: must be at least 100ms and at most 24h, got 99ms"],
    ["interval too long", { interval: "24h1ms" }, "interval: must be at least 100ms and at most 24h, got 24h0.001s"],
    ["interval past setTimeout's limit", { interval: 2 ** 31 }, "interval: must be at least 100ms and at most 24h, got 596h31m23.648s"],
    ["retryInterval too long", { retryInterval: "11m" }, "retryInterval: must be at most 10m, got 11m"],
    ["retryInterval past setTimeout's limit", { retryInterval: 2 ** 31 }, "retryInterval: must be at most 10m, got 596h31m23.648s"],
    ["pruneAfter too short", { pruneAfter: "59s" }, "pruneAfter: must be at least 1m and at most 576h, got 59s"],
    ["pruneAfter too long", { pruneAfter: "577h" }, "pruneAfter: must be at least 1m and at most 576h, got 577h"],
    ["pruneAfter bad", { pruneAfter: "1d" }, 'pruneAfter: invalid duration "1d"'],
    ["threshold too long", { thresholds: { pingLatency: "11m" } }, "thresholds.pingLatency: must be more than 0s and at most 10m, got 11m"],
    ["maxReplicationLag too long", { maxReplicationLag: "577h" }, "maxReplicationLag: must be more than 0s and at most 576h, got 577h"],
    ["interval bare number string", { interval: "5" }, 'interval: invalid duration "5"'],
    ["createHealthTable", { createHealthTable: "yes" }, 'createHealthTable: must be true or false, got "yes"'],
    ["writeCheck", { writeCheck: "sometimes" }, 'writeCheck: must be one of "auto", "always", "never", got "sometimes"'],
    ["thresholds not an object", { thresholds: "1s" }, 'thresholds: must be an object like { readLatency: "500ms" }, got "1s"'],
    ["thresholds list", { thresholds: [] }, "thresholds: must be an object like { readLatency: \"500ms\" }, got a list"],
    ["threshold zero", { thresholds: { readLatency: 0 } }, "thresholds.readLatency: must be more than 0s and at most 10m, got 0s"],
    ["threshold bad", { thresholds: { pingLatency: "fast" } }, 'thresholds.pingLatency: invalid duration "fast"'],
    ["maxReplicationLag", { maxReplicationLag: "1d" }, 'maxReplicationLag: invalid duration "1d"'],
    ["probeId empty", { probeId: "" }, 'probeId: "" is not a valid probe id: use 1–128 printable characters'],
    ["probeId control char", { probeId: "a\nb" }, 'probeId: "a\\nb" is not a valid probe id'],
    ["probeId too long", { probeId: "p".repeat(129) }, "is not a valid probe id"],
    ["healthTable", { healthTable: "health-check" }, 'healthTable: "health-check" is not a valid identifier: use 1–63 letters, digits or "_", not starting with a digit'],
    ["healthTable digit", { healthTable: "1hc" }, 'healthTable: "1hc" is not a valid identifier'],
    ["schema", { schema: "my schema" }, 'schema: "my schema" is not a valid identifier'],
    ["schema type", { schema: null }, "schema: must be a string, got null"],
  ])("rejects %s", (_label, fields, expected) => {
    const message = problems(() => resolveTargetConfig({ dsn: PG, ...fields }));
    expect(message).toContain(expected);
    expect(message.split("\n")).toHaveLength(1);
  });

  it.each(["host=db user=app password=hunter22", "root@tcp(db:3306)/shop"])(
    "rejects the DSN %s that no driver reads, showing it only redacted",
    (dsn) => {
      const message = problems(() => resolveTargetConfig({ dsn }));
      expect(message).toMatch(/^dsn: unsupported DSN "/);
      expect(message).not.toContain("hunter22");
      expect(message.split("\n")).toHaveLength(1);
    },
  );

  it("rejects input that is not an object", () => {
    expect(problems(() => resolveTargetConfig("postgres://h/db"))).toBe(
      'target: must be an object like { dsn: "postgres://user@host/db" }, got "postgres://h/db"',
    );
    expect(problems(() => resolveTargetConfig(null))).toContain("target: must be an object");
    expect(problems(() => resolveTargetConfig([]))).toContain("got a list");
  });
});

describe("resolveTargetConfig: every problem at once", () => {
  it("lists all problems, one per line, each with its path", () => {
    const message = problems(() =>
      resolveTargetConfig({
        dsn: "",
        role: "leader",
        connectTimeout: "5x",
        maxRetries: -2,
        interval: "10ms",
        healthTable: "bad table",
        conectTimeout: "1s",
        thresholds: { writeLatency: "5s" },
      }),
    );
    const lines = message.split("\n");
    expect(lines).toEqual([
      expect.stringMatching(/^dsn: must not be empty/),
      expect.stringMatching(/^role: must be one of/),
      expect.stringMatching(/^connectTimeout: invalid duration "5x"/),
      expect.stringMatching(/^maxRetries: must be a whole number/),
      expect.stringMatching(/^interval: must be at least 100ms and at most 24h, got 10ms$/),
      expect.stringMatching(/^healthTable: "bad table" is not a valid identifier/),
      expect.stringMatching(/^conectTimeout: unknown option; did you mean "connectTimeout"\?/),
      expect.stringMatching(/^thresholds\.writeLatency: 5s must be less than writeTimeout \(2s\)/),
    ]);
  });
});

describe("unknown keys", () => {
  it.each([
    ["conectTimeout", '"connectTimeout"'],
    ["connect_timeout", '"connectTimeout"'],
    ["ConnectTimeout", '"connectTimeout"'],
    ["intervall", '"interval"'],
    ["retries", '"maxRetries"'],
    ["timeout", '"connectTimeout" or "readTimeout" or "writeTimeout"'],
    ["health_table", '"healthTable"'],
  ])("suggests a known key for %s", (key, suggestion) => {
    expect(problems(() => resolveTargetConfig({ dsn: PG, [key]: 1 }))).toBe(
      `${key}: unknown option; did you mean ${suggestion}?`,
    );
  });

  it("lists the known keys when nothing is close", () => {
    expect(problems(() => resolveTargetConfig({ dsn: PG, colour: "red" }))).toMatch(
      /^colour: unknown option \(known: dsn, name, role, cluster, connectTimeout, .*, schema, pruneAfter, checks\)$/,
    );
  });

  it("reports each unknown key on its own line, also inside thresholds", () => {
    const message = problems(() =>
      resolveTargetConfig({ dsn: PG, tresholds: {}, "odd key": 1, thresholds: { readLatancy: "1s" } }),
    );
    expect(message.split("\n").sort()).toEqual([
      '["odd key"]: unknown option (known: dsn, name, role, cluster, connectTimeout, readTimeout, writeTimeout, maxRetries, retryInterval, interval, createHealthTable, writeCheck, connection, thresholds, maxReplicationLag, probeId, healthTable, schema, pruneAfter, checks)',
      'thresholds.readLatancy: unknown option; did you mean "readLatency"?',
      'tresholds: unknown option; did you mean "thresholds"?',
    ]);
  });
});

describe("threshold cross-checks", () => {
  it("accepts thresholds below their timeouts", () => {
    const c = resolveTargetConfig({ dsn: PG, thresholds: { pingLatency: 1999, readLatency: "1.9s", writeLatency: "1s" } });
    expect(c.thresholds).toEqual({ pingLatency: 1999, readLatency: 1900, writeLatency: 1000 });
  });

  it("rejects each threshold at or above its timeout, naming both", () => {
    const message = problems(() =>
      resolveTargetConfig({
        dsn: PG,
        readTimeout: "1s",
        writeTimeout: "3s",
        thresholds: { pingLatency: "1s", readLatency: "1.5s", writeLatency: "4s" },
      }),
    );
    expect(message.split("\n")).toEqual([
      "thresholds.pingLatency: 1s must be less than readTimeout (1s): the phase times out before the threshold is reached; lower the threshold or raise readTimeout",
      "thresholds.readLatency: 1.5s must be less than readTimeout (1s): the phase times out before the threshold is reached; lower the threshold or raise readTimeout",
      "thresholds.writeLatency: 4s must be less than writeTimeout (3s): the phase times out before the threshold is reached; lower the threshold or raise writeTimeout",
    ]);
  });

  it("compares against the default timeout when none is given", () => {
    expect(problems(() => resolveTargetConfig({ dsn: PG, thresholds: { readLatency: "2s" } }))).toContain(
      "must be less than readTimeout (2s)",
    );
  });

  it("still checks valid pairs when other fields are wrong, and skips invalid ones", () => {
    const message = problems(() =>
      resolveTargetConfig({ dsn: PG, readTimeout: "oops", writeTimeout: "1s", thresholds: { readLatency: "5s", writeLatency: "2s" } }),
    );
    expect(message.split("\n")).toEqual([
      'readTimeout: invalid duration "oops": use a number with a unit, e.g. 500ms, 2s, 1m',
      expect.stringMatching(/^thresholds\.writeLatency: 2s must be less than writeTimeout \(1s\)/),
    ]);
  });
});

describe("resolveTargetConfigs", () => {
  it("derives default names from the engine, suffixing repeats in order", () => {
    const configs = resolveTargetConfigs([
      { dsn: "postgres://h1/db" },
      { dsn: "postgresql://h2/db" },
      { dsn: "mysql://root@tcp(127.0.0.1:3306)/app" },
      { dsn: "mariadb://h/db" },
      { dsn: "file:app.db?mode=rwc" },
      { dsn: ":memory:" },
      { dsn: "sqlserver://sa@h:1433?database=x" },
      { dsn: "postgres://h3/db" },
      { dsn: "sqlite3:///var/lib/app.db" },
      { dsn: "sqlite3:app.db" },
    ]);
    expect(configs.map((c) => c.name)).toEqual([
      "postgres",
      "postgres-2",
      "mysql",
      "mysql-2",
      "sqlite",
      "sqlite-2",
      "mssql",
      "postgres-3",
      "sqlite-3",
      "sqlite-4",
    ]);
    expect(configs.map((c) => c.probeId)).toContain(`${hostname()}/postgres-2`);
  });

  it("never gives a default name that a target already uses explicitly", () => {
    const configs = resolveTargetConfigs([{ dsn: "postgres://h1/db" }, { dsn: "postgres://h2/db", name: "postgres" }]);
    expect(configs.map((c) => c.name)).toEqual(["postgres-2", "postgres"]);
  });

  it("rejects duplicate names, naming both indexes", () => {
    const message = problems(() =>
      resolveTargetConfigs([{ dsn: PG, name: "main" }, { dsn: PG }, { dsn: PG, name: "main" }]),
    );
    expect(message).toBe('targets[2].name: "main" is already the name of targets[0]; give each target its own name');
  });

  it("finds duplicates even when the targets have other problems", () => {
    const message = problems(() =>
      resolveTargetConfigs([{ dsn: PG, name: "a", interval: 1 }, { dsn: PG, name: "a" }]),
    );
    expect(message.split("\n")).toEqual([
      "targets[0].interval: must be at least 100ms and at most 24h, got 1ms",
      'targets[1].name: "a" is already the name of targets[0]; give each target its own name',
    ]);
  });

  it("lists the problems of every target in one error", () => {
    const message = problems(() =>
      resolveTargetConfigs([
        { dsn: PG, connectTimeout: "5x" },
        { dsn: PG },
        "nope",
        { dsn: PG, role: "boss", thresholds: { pingLatency: "9s" } },
      ]),
    );
    expect(message.split("\n")).toEqual([
      'targets[0].connectTimeout: invalid duration "5x": use a number with a unit, e.g. 500ms, 2s, 1m',
      'targets[2]: must be an object like { dsn: "postgres://user@host/db" }, got "nope"',
      'targets[3].role: must be one of "primary", "replica", "auto", got "boss"',
      expect.stringMatching(/^targets\[3\]\.thresholds\.pingLatency: 9s must be less than readTimeout \(2s\)/),
    ]);
  });

  it("returns an empty list for no targets and rejects a non-list", () => {
    expect(resolveTargetConfigs([])).toEqual([]);
    expect(problems(() => resolveTargetConfigs({ dsn: PG } as unknown as unknown[]))).toBe(
      "targets: must be a list of targets, got an object",
    );
  });
});

describe("secrets", () => {
  it("never shows the DSN password, whatever else is wrong", () => {
    const message = problems(() =>
      resolveTargetConfigs([
        {
          dsn: "postgres://u:s3cr3t@h/db",
          name: "bad name",
          connectTimeout: "s3cr3t",
          role: "s3cr3t",
          probeId: "",
          s3cr3t: true,
          thresholds: { readLatency: "9s" },
        },
        { dsn: "postgres://u:s3cr3t@h/db", interval: 0 },
      ]),
    );
    expect(message.split("\n").length).toBeGreaterThanOrEqual(6);
    expect(message).not.toContain("s3cr3t");
  });

  it("never shows the password of an unreadable DSN", () => {
    for (const dsn of ["host=h password=s3cr3t", "u:s3cr3t@tcp(h:3306)/db", "Server=h;Password=s3cr3t;%%%"]) {
      const message = problems(() => resolveTargetConfig({ dsn, interval: "x", name: "s3cr3t!" }));
      expect(message).toContain("interval: invalid duration");
      expect(message).not.toContain("s3cr3t");
    }
  });
});

describe("DSNs are fully parsed with the other fields", () => {
  it.each<[string, RegExp]>([
    ["postgres://app@db:99999/app", /^dsn: invalid DSN "postgres:\/\/app@db:99999\/app": the port must be a number from 1 to 65535 \(got 99999\)$/],
    ["mysql://u@tcp(db:3306/shop", /^dsn: invalid DSN .*unbalanced "tcp\("/],
    ["Server=db;Encrypt", /^dsn: invalid ADO connection string: every part must be Key=Value/],
    ["sqlite://", /^dsn: invalid DSN "sqlite:\/\/": no database file after "sqlite:"/],
    ["sqlite3://", /^dsn: invalid DSN "sqlite3:\/\/": no database file/],
    ["file:?mode=rwc", /^dsn: invalid DSN "file:\?mode=rwc": no database file/],
  ])("rejects %s with the dsn: prefix", (dsn, expected) => {
    const message = problems(() => resolveTargetConfig({ dsn }));
    expect(message).toMatch(expected);
    expect(message.split("\n")).toHaveLength(1);
  });

  it("lists two bad DSNs and a bad interval in one error", () => {
    const message = problems(() =>
      resolveTargetConfigs([
        { dsn: "postgres://app:hunter22@db:notaport/app" },
        { dsn: "Server=db;Password={hunter22", interval: "5x" },
      ]),
    );
    expect(message.split("\n")).toEqual([
      expect.stringMatching(/^targets\[0\]\.dsn: invalid DSN "postgres:\/\/app:\*\*\*@db:\*\*\*\/app": the port must be a number from 1 to 65535$/),
      'targets[1].dsn: invalid ADO connection string: the value of "Password" opens with { but never closes with }',
      'targets[1].interval: invalid duration "5x": use a number with a unit, e.g. 500ms, 2s, 1m',
    ]);
    expect(message).not.toContain("hunter22");
  });

  it("accepts sqlite3: DSNs like sqlite: ones, and explicit in-memory ones", () => {
    for (const dsn of ["sqlite3:///var/lib/app.db", "sqlite3://app.db", "sqlite3:app.db", "file:?mode=memory", "sqlite3::memory:"]) {
      expect(resolveTargetConfig({ dsn }).name).toBe("sqlite");
    }
  });
});

describe("pruneAfter", () => {
  it("defaults to 24h and reads durations", () => {
    expect(DEFAULTS.pruneAfter).toBe(86_400_000);
    expect(resolveTargetConfig({ dsn: PG }).pruneAfter).toBe(86_400_000);
    expect(resolveTargetConfig({ dsn: PG, pruneAfter: "2h30m" }).pruneAfter).toBe(9_000_000);
    expect(resolveTargetConfig({ dsn: PG, pruneAfter: 120_000 }).pruneAfter).toBe(120_000);
    expectTypeOf<TargetConfig["pruneAfter"]>().toEqualTypeOf<number>();
    expectTypeOf<TargetOptions["pruneAfter"]>().toEqualTypeOf<string | number | undefined>();
  });

  it("must be at least twice the interval, so that live peers keep their rows", () => {
    expect(resolveTargetConfig({ dsn: PG, interval: "1h", pruneAfter: "2h" }).pruneAfter).toBe(7_200_000);
    expect(problems(() => resolveTargetConfig({ dsn: PG, interval: "1h", pruneAfter: "1h59m" }))).toBe(
      "pruneAfter: 1h59m must be at least twice interval (1h): rows of live probers checking that often would be deleted; raise pruneAfter or lower interval",
    );
    // The default pruneAfter (24h) against a long interval: the message says which option to raise.
    expect(problems(() => resolveTargetConfig({ dsn: PG, interval: "13h" }))).toMatch(/^pruneAfter: 24h must be at least twice interval \(13h\)/);
  });

  it("is cross-checked even when other fields are wrong", () => {
    const message = problems(() => resolveTargetConfig({ dsn: PG, role: "boss", interval: "10m", pruneAfter: "15m" }));
    expect(message.split("\n")).toEqual([
      expect.stringMatching(/^role: must be one of/),
      expect.stringMatching(/^pruneAfter: 15m must be at least twice interval \(10m\)/),
    ]);
  });

  it("is rejected by targetOptionsSchema below twice the interval", () => {
    const r = targetOptionsSchema.safeParse({ dsn: PG, interval: "1m", pruneAfter: "1m" });
    expect(r.error?.issues).toEqual([expect.objectContaining({ path: ["pruneAfter"] })]);
  });
});

describe("values echoed in messages are redacted before they are cut", () => {
  const PASSWORD = "Hunter2SecretLongPassword12345";
  // Each secret-bearing value with what it must look like in the message.
  const values: [label: string, value: string, shown: string][] = [
    ["URL userinfo", `postgres://u:${PASSWORD}@h/db`, '"postgres://u:***@h/db"'],
    ["ADO Password=", `Server=db;Password=${PASSWORD};User Id=sa`, '"Server=db;Password=***;User Id=sa"'],
    ["?password=", `postgres://h/db?password=${PASSWORD}`, '"postgres://h/db?password=***"'],
    ["long text around a URL", `${"x".repeat(20)} postgres://u:${PASSWORD}@h/db`, `"${"x".repeat(20)} postgres://u:***@h/…"`],
  ];
  const fields: [field: string, input: (v: string) => Record<string, unknown>][] = [
    ["name", (v) => ({ name: v })],
    ["role", (v) => ({ role: v })],
    ["connectTimeout", (v) => ({ connectTimeout: v })],
    ["readTimeout", (v) => ({ readTimeout: v })],
    ["writeTimeout", (v) => ({ writeTimeout: v })],
    ["maxRetries", (v) => ({ maxRetries: v })],
    ["retryInterval", (v) => ({ retryInterval: v })],
    ["interval", (v) => ({ interval: v })],
    ["createHealthTable", (v) => ({ createHealthTable: v })],
    ["writeCheck", (v) => ({ writeCheck: v })],
    ["thresholds", (v) => ({ thresholds: v })],
    ["thresholds.pingLatency", (v) => ({ thresholds: { pingLatency: v } })],
    ["thresholds.readLatency", (v) => ({ thresholds: { readLatency: v } })],
    ["thresholds.writeLatency", (v) => ({ thresholds: { writeLatency: v } })],
    ["maxReplicationLag", (v) => ({ maxReplicationLag: v })],
    ["probeId", (v) => ({ probeId: `${v}\n` })],
    ["healthTable", (v) => ({ healthTable: v })],
    ["schema", (v) => ({ schema: v })],
    ["pruneAfter", (v) => ({ pruneAfter: v })],
    ["an unknown key", (v) => ({ [v]: 1 })],
  ];
  const cases = fields.flatMap(([field, input]) => values.map(([label, value, shown]) => [field, label, input(value), shown] as const));

  it.each(cases)("%s: %s", (field, _label, fields, shown) => {
    const message = problems(() => resolveTargetConfig({ dsn: PG, ...fields }));
    expect(message).not.toContain("Hunter2");
    // Without the closing quote: the probe id's "\n" sits before it.
    expect(message).toContain(shown.slice(0, -1));
  });

  it.each(values)("a whole target given as a string: %s", (_label, value, shown) => {
    expect(problems(() => resolveTargetConfig(value))).toBe(`target: must be an object like { dsn: "postgres://user@host/db" }, got ${shown}`);
    expect(problems(() => resolveTargetConfigs(value as unknown as unknown[]))).toBe(`targets: must be a list of targets, got ${shown}`);
  });

  it("hides the DSN's own password pasted into another field, even where the cut would split it", () => {
    const dsn = `postgres://u:${PASSWORD}@h/db`;
    for (const fields of [{ name: `${"x".repeat(30)} ${PASSWORD}` }, { interval: `1s${PASSWORD}` }, { healthTable: `t ${PASSWORD}` }]) {
      const message = problems(() => resolveTargetConfig({ dsn, ...fields }));
      expect(message).not.toContain("Hunter2");
      expect(message).toContain("***");
    }
  });

  it("hides another target's password too, before the cut", () => {
    const message = problems(() =>
      resolveTargetConfigs([{ dsn: `postgres://u:${PASSWORD}@h/db` }, { dsn: PG, name: `${"y".repeat(30)} ${PASSWORD}` }]),
    );
    expect(message).toBe(`targets[1].name: "${"y".repeat(30)} ***" is not a valid name: use 1–63 letters, digits, "_", ".", ":" or "-", starting with a letter or digit`);
  });
});

describe("targetOptionsSchema", () => {
  it("parses and applies defaults except name and probeId", () => {
    const data = targetOptionsSchema.parse({ dsn: PG, interval: "30s" });
    expect(data).toMatchObject({ dsn: PG, interval: 30_000, readTimeout: 2000 });
    expect(data).not.toHaveProperty("name");
    expect(data).not.toHaveProperty("probeId");
  });

  it("applies the threshold cross-check and suggests unknown keys", () => {
    const r = targetOptionsSchema.safeParse({ dsn: PG, thresholds: { writeLatency: "2s" } });
    expect(r.error?.issues).toEqual([
      expect.objectContaining({ path: ["thresholds", "writeLatency"], message: expect.stringContaining("less than writeTimeout") }),
    ]);
    const u = targetOptionsSchema.safeParse({ dsn: PG, intervall: 1 });
    expect(u.error?.issues[0]?.message).toBe('"intervall": unknown option; did you mean "interval"?');
  });

  it("has TargetOptions as its input type", () => {
    expectTypeOf<z.input<typeof targetOptionsSchema>>().toEqualTypeOf<TargetOptions>();
  });
});

describe("engineForScheme", () => {
  it.each([
    ["postgres", "postgres"],
    ["postgresql", "postgres"],
    ["mysql", "mysql"],
    ["mariadb", "mysql"],
    ["file", "sqlite"],
    ["sqlite", "sqlite"],
    ["sqlite3", "sqlite"],
    ["SQLite3", "sqlite"],
    ["sqlserver", "mssql"],
    ["mssql", "mssql"],
    ["MSSQL", "mssql"],
    ["cockroach", "cockroach"],
  ])("maps %s to %s", (scheme, engine) => {
    expect(engineForScheme(scheme)).toBe(engine);
  });
});
