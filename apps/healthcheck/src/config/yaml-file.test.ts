import { afterAll, describe, expect, it } from "vitest";
import { resolveError, resolveOk, tempDir } from "./__fixtures__/helpers.js";
import { Problems } from "./problems.js";
import { formatPath, loadYamlFile } from "./yaml-file.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const load = async (text: string) => {
  const problems = new Problems();
  const file = tmp.write("t.yaml", text);
  return { config: await loadYamlFile(file, "--config", problems), lines: problems.lines.map((l) => l.replace(`${file}`, "FILE")) };
};

describe("YAML file", () => {
  it("reports unknown keys at every level with a suggestion and the line", async () => {
    const { lines } = await load(
      `targets:
  - dsn: file:a.db
    readTimout: 1s
    thresholds: { readLatncy: 1s }
defaults:
  max_retries: 2
  name: x
logLevl: info
interval: 5s
colour: blue
`,
    );
    expect(lines).toEqual([
      'FILE: targets[0].readTimout (line 3): unknown option; did you mean "readTimeout"?',
      'FILE: defaults.max_retries (line 6): unknown option; did you mean "maxRetries"?',
      "FILE: defaults.name (line 7): name identifies one database: put it under targets:",
      'FILE: logLevl (line 8): unknown option; did you mean "logLevel"?',
      'FILE: interval (line 9): "interval" is a target setting: put it under defaults: (every target) or under one target',
      "FILE: colour (line 10): unknown option (known: targets, defaults, modules, plugins, listen, webConfig, logLevel, probeCacheInterval, legacyMetrics, runtimeMetrics, durationBuckets, telemetryPath, timeoutOffset)",
    ]);
  });

  it("lets core report nested unknown keys and bad values, with the YAML line", async () => {
    const file = tmp.write("nested.yaml", "targets:\n  - dsn: file:a.db\n    thresholds:\n      readLatncy: 1s\n    role: leader\n");
    expect((await resolveError(["--config", file])).split("\n")).toEqual([
      `${file}: targets[0].role (line 5): must be one of "primary", "replica", "auto", got "leader"`,
      `${file}: targets[0].thresholds.readLatncy (line 4): unknown option; did you mean "readLatency"?`,
    ]);
  });

  it("reports syntax errors with line and column, without quoting the source line", async () => {
    const { config, lines } = await load("targets:\n  - dsn: postgres://u:Sup3rSecret@h/db\n  bad: [1,\n");
    expect(config).toBeUndefined();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(/^FILE \(line \d+, column \d+\): \S/);
    expect(lines.join("\n")).not.toContain("Sup3rSecret");
  });

  it("rejects duplicate keys and wrong shapes", async () => {
    expect((await load("listen: :1\nlisten: :2\n")).lines[0]).toMatch(/^FILE \(line 2, column 1\): Map keys must be unique/);
    expect((await load("- a\n- b\n")).lines).toEqual(["FILE: must be a mapping of settings (targets:, defaults:, …), not a list or a single value"]);
    expect((await load("targets: { dsn: x }\n")).lines[0]).toMatch(/^FILE: targets \(line 1\): must be a list of targets/);
    expect((await load("targets:\n  - file:a.db\n")).lines).toEqual(['FILE: targets[0] (line 2): must be a mapping of settings, got "file:a.db"']);
    expect((await load("plugins: x\nlegacyMetrics: yes\n")).config?.top).toEqual({ plugins: "x", legacyMetrics: "yes" });
  });

  it("checks the top-level settings' values", async () => {
    const file = tmp.write("top.yaml", "plugins: x\nlegacyMetrics: yes\nlisten: nine\nprobeCacheInterval: 10ms\nwebConfig: missing-web.yml\ntargets: [{ dsn: ':memory:' }]\n");
    expect((await resolveError(["--config", file])).split("\n")).toEqual([
      `${file}: listen (line 3): "nine" is not [host]:port, e.g. :9091 or 127.0.0.1:9091`,
      `${file}: probeCacheInterval (line 4): must be at least 100ms and at most 1h`,
      `${file}: legacyMetrics (line 2): must be true or false, got "yes"`,
      `${file}: webConfig (line 5): cannot read "${tmp.dir}/missing-web.yml": ENOENT`,
      `${file}: plugins (line 1): must be a list of package names or paths, e.g. ["@acme/db-health-driver-x"]`,
    ]);
  });

  it("accepts a bare port for listen and resolves webConfig relative to the file", async () => {
    tmp.write("web.yml", "tls_server_config: {}\n");
    const file = tmp.write("web.yaml", "listen: 9100\nwebConfig: web.yml\ntargets: [{ dsn: ':memory:' }]\n");
    expect(await resolveOk(["--config", file])).toMatchObject({ listen: { host: undefined, port: 9100 }, webConfigFile: `${tmp.dir}/web.yml` });
  });

  it("treats an empty file and empty sections as configuring nothing", async () => {
    expect((await load("")).config).toMatchObject({ targets: [], defaults: {}, top: {} });
    expect((await load("targets:\ndefaults:\n")).lines).toEqual([]);
  });

  it("refuses, before parsing, a file nested too deep or holding too many targets", async () => {
    expect((await load(`targets:\n  - thresholds: ${"{ a: ".repeat(70)}\n`)).lines).toEqual([
      'FILE (line 2): nested deeper than 64 levels (a configuration needs 5): look for an unclosed "[" or "{" or runaway indentation',
    ]);
    const many = await load(`listen: ":9091"\ntargets:\n${"  - dsn: ':memory:'\n".repeat(10_001)}`);
    expect(many.config).toBeUndefined();
    expect(many.lines).toEqual(["FILE: targets (line 10003): more than 10,000 targets, the most one healthcheck process probes: split them over several processes"]);
    expect((await load(`targets:\n${"  - dsn: ':memory:'\n".repeat(10_000)}`)).config?.targets).toHaveLength(10_000);
  });

  it("formats paths as core does", () => {
    expect(formatPath(["targets", 1, "thresholds", "readLatency"])).toBe("targets[1].thresholds.readLatency");
    expect(formatPath(["a b"])).toBe('["a b"]');
  });
});

describe("YAML file holding passwords", () => {
  const check = async (mode: number, text: string): Promise<string[]> => {
    const problems = new Problems();
    const file = tmp.write(`perm-${mode.toString(8)}.yaml`, text);
    const { chmodSync } = await import("node:fs");
    chmodSync(file, mode);
    await loadYamlFile(file, "--config", problems);
    expect(problems.lines).toEqual([]);
    return problems.warnings.map((w) => w.replace(file, "FILE"));
  };
  const withPassword = "targets:\n  - dsn: postgres://app:S3cret-pw@db:5432/app\n  - dsn: file:a.db\n";

  it("warns when every user may read it, naming the keys, never the password", async () => {
    const warnings = await check(0o644, withPassword);
    expect(warnings).toEqual([
      "FILE: is readable by every user (mode 0644) and holds passwords (targets[0].dsn): chmod 600 it, or move the passwords to passwordFile or dsnFile",
    ]);
    expect(warnings.join("")).not.toContain("S3cret-pw");
  });

  it("is quiet when the file is private or holds no password", async () => {
    expect(await check(0o600, withPassword)).toEqual([]);
    expect(await check(0o640, withPassword)).toEqual([]);
    expect(await check(0o644, "targets:\n  - dsn: postgres://app@db:5432/app\n    passwordFile: pw\n")).toEqual([]);
  });
});
