import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ENV_VARS } from "./config/env.js";
import { buildProgram } from "./config/flags.js";
import { FILE_LIMITS, formatBytes, MAX_TARGETS, YAML_LIMITS } from "./config/limits.js";
import { ALLOW_KEYS, MODULE_KEYS } from "./config/modules.js";
import { TARGET_SETTINGS, YAML_DEFAULT_KEYS, YAML_TARGET_KEYS, YAML_TOP_KEYS } from "./config/settings.js";
import { DISCOVERY_LIMITS } from "./discovery/discovery-limits.js";

// The README is the CLI's reference: every flag, variable, YAML key and endpoint the code knows
// must be documented there, so a new option cannot ship undocumented.
const README = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
/** The README's text between a `### heading` and the next heading of that level or above. */
const section = (heading: string): string => {
  const start = README.indexOf(`\n### ${heading}\n`);
  if (start < 0) throw new Error(`README has no "### ${heading}" section`);
  const next = README.slice(start + 1).search(/\n#{2,3} /);
  return next < 0 ? README.slice(start) : README.slice(start, start + 1 + next);
};

describe("README.md documents the CLI as built", () => {
  it("has a row in the Flags table for every flag of --help", () => {
    const flags = buildProgram("0.0.0", () => undefined).options.map((o) => o.long!);
    expect(flags.length).toBeGreaterThan(20);
    const table = section("Flags");
    const missing = flags.filter((f) => !table.includes(`\`${f}`));
    expect(missing).toEqual([]);
  });

  it("names every environment variable in the Environment variables section", () => {
    const vars = [...Object.values(ENV_VARS), ...TARGET_SETTINGS.map((s) => s.env), `${ENV_VARS.dsn}_FILE`];
    const text = section("Environment variables");
    expect(vars.filter((v) => !text.includes(`\`${v}\``))).toEqual([]);
  });

  it("names every YAML key in the YAML file section or the Flags table", () => {
    const text = `${section("The YAML file")}\n${section("Flags")}`;
    const keys = [...new Set([...YAML_TOP_KEYS, ...YAML_TARGET_KEYS, ...YAML_DEFAULT_KEYS, ...MODULE_KEYS, ...ALLOW_KEYS])];
    expect(keys.filter((k) => !new RegExp(`\\b${k}\\b`).test(text))).toEqual([]);
  });

  it("describes every HTTP endpoint the server answers", () => {
    const text = section("HTTP endpoints");
    for (const path of ["/metrics", "/probe?target=", "/probe?module=NAME&target=HOST:PORT[/DB]", "/healthz", "/readyz", "/health"]) expect(text, path).toContain(path);
  });

  it("states every limit the code enforces in the Limits section", () => {
    const text = section("Limits");
    const values = [...Object.values(FILE_LIMITS).map((l) => formatBytes(l.bytes)), ...[MAX_TARGETS, ...Object.values(YAML_LIMITS), DISCOVERY_LIMITS.maxTargets].map((n) => n.toLocaleString("en-US"))];
    expect(values.filter((v) => !text.includes(v))).toEqual([]);
    expect(text).toContain(`closed after ${DISCOVERY_LIMITS.idleMs / 60_000} minutes without a \`/probe\``);
  });
});
