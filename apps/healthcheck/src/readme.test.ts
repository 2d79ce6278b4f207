import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ENV_VARS } from "./config/env.js";
import { buildProgram } from "./config/flags.js";
import { FILE_LIMITS, formatBytes, MAX_TARGETS, YAML_LIMITS } from "./config/limits.js";
import { ALLOW_KEYS, MODULE_KEYS } from "./config/modules.js";
import { TARGET_SETTINGS, YAML_DEFAULT_KEYS, YAML_TARGET_KEYS, YAML_TOP_KEYS } from "./config/settings.js";
import { DISCOVERY_LIMITS } from "./discovery/discovery-limits.js";

// docs/ is the CLI's reference (the README links to it): every flag, variable, YAML key and
// endpoint the code knows must be documented there, so a new option cannot ship undocumented.
const read = (path: string): string => readFileSync(new URL(`../../../${path}`, import.meta.url), "utf8");
const README = read("README.md");
const DOCS = { cli: "docs/cli.md", configuration: "docs/configuration.md", http: "docs/http.md" } as const;
const text = Object.fromEntries(Object.entries(DOCS).map(([k, path]) => [k, read(path)])) as Record<keyof typeof DOCS, string>;

/** The text of `doc` between a `## heading` (or `### heading`) and the next heading of that level or above. */
const section = (doc: keyof typeof DOCS, heading: string): string => {
  const body = text[doc];
  const found = new RegExp(`\\n(#{2,3}) ${heading.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\n`).exec(body);
  if (!found) throw new Error(`${DOCS[doc]} has no "## ${heading}" section`);
  const next = body.slice(found.index + 1).search(new RegExp(`\\n#{2,${found[1]!.length}} `));
  return next < 0 ? body.slice(found.index) : body.slice(found.index, found.index + 1 + next);
};

describe("docs/ documents the CLI as built", () => {
  it("has a row in the Flags table of docs/cli.md for every flag of --help", () => {
    const flags = buildProgram("0.0.0", () => undefined).options.map((o) => o.long!);
    expect(flags.length).toBeGreaterThan(20);
    const table = section("cli", "Flags");
    const missing = flags.filter((f) => !table.includes(`\`${f}`));
    expect(missing).toEqual([]);
  });

  it("names every environment variable in the Environment variables section of docs/cli.md", () => {
    const vars = [...Object.values(ENV_VARS), ...TARGET_SETTINGS.map((s) => s.env), `${ENV_VARS.dsn}_FILE`];
    const env = section("cli", "Environment variables");
    expect(vars.filter((v) => !env.includes(`\`${v}\``))).toEqual([]);
  });

  it("names every YAML key in the YAML file section of docs/configuration.md or the Flags table", () => {
    const yaml = `${section("configuration", "The YAML file")}\n${section("cli", "Flags")}`;
    const keys = [...new Set([...YAML_TOP_KEYS, ...YAML_TARGET_KEYS, ...YAML_DEFAULT_KEYS, ...MODULE_KEYS, ...ALLOW_KEYS])];
    expect(keys.filter((k) => !new RegExp(`\\b${k}\\b`).test(yaml))).toEqual([]);
  });

  it("describes every HTTP endpoint the server answers in the table of docs/http.md", () => {
    const table = text.http.slice(0, text.http.indexOf("\n## "));
    for (const path of ["/metrics", "/probe?target=NAME", "/probe?module=NAME&target=HOST:PORT[/DB]", "/healthz", "/readyz", "/health"]) expect(table, path).toContain(`\n| \`${path}\` |`);
  });

  it("states every limit the code enforces in the Limits section of docs/configuration.md", () => {
    const limits = section("configuration", "Limits");
    const values = [...Object.values(FILE_LIMITS).map((l) => formatBytes(l.bytes)), ...[MAX_TARGETS, ...Object.values(YAML_LIMITS), DISCOVERY_LIMITS.maxTargets].map((n) => n.toLocaleString("en-US"))];
    expect(values.filter((v) => !limits.includes(v))).toEqual([]);
    expect(limits).toContain(`closed after ${DISCOVERY_LIMITS.idleMs / 60_000} minutes without a \`/probe\``);
  });

  it("keeps the README an overview that links to each of these pages", () => {
    expect(README.split("\n").length).toBeLessThanOrEqual(250);
    for (const path of Object.values(DOCS)) expect(README, path).toContain(`](${path})`);
  });
});
