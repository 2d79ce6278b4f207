import { afterAll, describe, expect, it } from "vitest";
import { DbHealthError } from "@alfred/db-health-core";
import { resolveError, tempDir } from "./__fixtures__/helpers.js";
import { Problems, unknownKey } from "./problems.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe("every problem at once, each prefixed with its source", () => {
  it("lists problems from flags, variables, the YAML file and the target schema in one error", async () => {
    const file = tmp.write(
      "many.yaml",
      `logLevel: chatty
targets:
  - name: a
    dsn: file:a.db
  - name: b
    dsn: file:b.db
    readTimeout: 1s
    thresholds:
      readLatency: 3s
`,
    );
    const message = await resolveError(["--once", "--config", file, "--interval", "5x", "--format", "yaml"], { DB_HEALTH_MAX_RETRIES: "many", DB_HEALTH_LEGACY_METRICS: "perhaps" });
    expect(message.split("\n").sort()).toEqual(
      [
        "--format: must be text or json, got \"yaml\"",
        "--interval: invalid duration \"5x\": use a number with a unit, e.g. 500ms, 2s, 1m",
        "DB_HEALTH_LEGACY_METRICS: must be true or false, got \"perhaps\"",
        "DB_HEALTH_MAX_RETRIES (maxRetries): must be a whole number from 0 to 100, got \"many\"",
        `${file}: logLevel (line 1): must be one of debug, info, warn, error, got "chatty"`,
        `${file}: targets[1].thresholds.readLatency (line 9): 3s must be less than readTimeout (1s): the phase times out before the threshold is reached; lower the threshold or raise readTimeout`,
      ].sort(),
    );
  });

  it("reports a bad global override once, not once per target", async () => {
    const message = await resolveError(["--dsn", "file:a.db", "--dsn", "file:b.db", "--read-timeout", "abc"]);
    expect(message).toBe('--read-timeout (readTimeout): invalid duration "abc": use a number with a unit, e.g. 500ms, 2s, 1m');
  });

  it("names the setting in messages about flags whose name differs (what cli.test.ts checks)", async () => {
    const message = await resolveError(["--once", "--dsn", "file:x.db", "--interval", "5x", "--read-timeout", "abc", "--max-retries", "-2"]);
    expect(message.split("\n")).toHaveLength(3);
    for (const word of ["interval", "readTimeout", "maxRetries"]) expect(message).toContain(word);
  });

  it("still checks the overrides when no database is configured", async () => {
    const message = await resolveError(["--interval", "5x"], { DB_HEALTH_ROLE: "leader" });
    expect(message.split("\n").sort()).toEqual([
      "--interval: invalid duration \"5x\": use a number with a unit, e.g. 500ms, 2s, 1m",
      "DB_HEALTH_ROLE (role): must be one of \"primary\", \"replica\", \"auto\", got \"leader\"",
      "no database to probe: pass --dsn, set DB_HEALTH_DSN or write targets in --config",
    ]);
  });

  it("blames the flag that was given when a rule between two settings trips on a default", async () => {
    expect(await resolveError(["--dsn", ":memory:", "--interval", "13h"])).toBe(
      "--interval: pruneAfter 24h must be at least twice interval (13h): rows of live probers checking that often would be deleted; raise pruneAfter or lower interval",
    );
  });
});

describe("passwords never appear in an error", () => {
  const PASSWORDS = ["YamlPa55word", "EnvPa55word", "FlagPa55word", "FilePa55word"];

  it("hides passwords from YAML, env, flags and files while other problems are reported", async () => {
    const pwFile = tmp.write("pw.txt", "FilePa55word\n");
    const file = tmp.write(
      "secrets.yaml",
      `targets:
  - name: y1
    dsn: postgres://app:YamlPa55word@db:99999/app
    probeId: "YamlPa55word"
    connectTimeout: YamlPa55word
  - name: y2
    dsn: postgres://app@db:5432/app
    passwordFile: ${pwFile}
    readTimeout: FilePa55word
`,
    );
    const yamlErr = await resolveError(["--config", file, "--write-timeout", "YamlPa55word"]);
    expect(yamlErr.split("\n").length).toBeGreaterThanOrEqual(4);

    const flagErr = await resolveError(["--dsn", "mysql://root:FlagPa55word@tcp(db:70000)/x", "--probe-id", "\u0001FlagPa55word", "--retry-interval", "FlagPa55word"]);
    expect(flagErr.split("\n").length).toBeGreaterThanOrEqual(3);

    const envErr = await resolveError([], { DB_HEALTH_DSN: "postgres://u:EnvPa55word@h:0/db", DB_HEALTH_INTERVAL: "EnvPa55word", DB_HEALTH_LOG_LEVEL: "EnvPa55word" });
    expect(envErr.split("\n").length).toBeGreaterThanOrEqual(3);

    for (const text of [yamlErr, flagErr, envErr]) {
      for (const pw of PASSWORDS) expect(text).not.toContain(pw);
      expect(text).toContain("***");
    }
  });

  it("hides a password cut short in a long value", async () => {
    const long = `postgres://u:${"L0ngPa55word".repeat(4)}@db:5432/app`;
    const message = await resolveError(["--dsn", long, "--log-level", long]);
    expect(message).not.toMatch(/L0ngPa55/);
  });
});

describe("Problems", () => {
  it("throws nothing when empty, one deduplicated DbHealthError otherwise", () => {
    const p = new Problems();
    expect(() => p.throwIfAny()).not.toThrow();
    p.add("--x", "bad");
    p.add("--x", "bad");
    p.add(undefined, "no source");
    expect(() => p.throwIfAny()).toThrow(new DbHealthError("config", "--x: bad\nno source"));
  });

  it("suggests the key a typo meant", () => {
    expect(unknownKey("read_timeout", ["readTimeout", "writeTimeout"])).toBe('unknown option; did you mean "readTimeout"?');
    expect(unknownKey("intervl", ["interval", "listen"])).toBe('unknown option; did you mean "interval"?');
    expect(unknownKey("zzz", ["a", "b"])).toBe("unknown option (known: a, b)");
  });
});
