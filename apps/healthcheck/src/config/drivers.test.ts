import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isDbHealthError } from "@alfred/db-health-core";
import { main } from "../main.js";
import { resolveCli } from "./resolve.js";
import { tempDir } from "./__fixtures__/helpers.js";

const resolve = (argv: string[]) => resolveCli(argv, {}, "1", { writeOut: () => undefined });
const errorOf = async (argv: string[]): Promise<string> => {
  try {
    await resolve(argv);
  } catch (err) {
    if (isDbHealthError(err)) return err.message;
    throw err;
  }
  throw new Error("expected a config error");
};

describe("driver checks (drivers installed here: sqlite, postgres, mysql; not mssql)", () => {
  it("lists what the drivers reject and what is not installed with every other problem", async () => {
    const message = await errorOf(["--dsn", "file:a.db?mode=rwx", "--dsn", "file:b.db?bogus=1", "--dsn", "sqlserver://sa:Sup3rS3cret!@127.0.0.1:1433/master", "--interval", "5x"]);
    const lines = message.split("\n");
    expect(lines).toHaveLength(4);
    expect(lines.some((l) => l.startsWith('--dsn #3: no driver for "sqlserver://sa@127.0.0.1:1433/master"'))).toBe(true);
    expect(lines.some((l) => l.startsWith("--dsn #1: ") && l.includes("mode=rwx"))).toBe(true);
    expect(lines.some((l) => l.startsWith("--dsn #2: ") && l.includes("bogus"))).toBe(true);
    expect(lines).toContain('--interval: invalid duration "5x": use a number with a unit, e.g. 500ms, 2s, 1m');
    expect(message).not.toContain("Sup3rS3cret");
  });

  it("accepts DSNs whose driver is installed", async () => {
    const plan = await resolve(["--dsn", "postgres://app@127.0.0.1:5432/app", "--dsn", "mysql://root@tcp(127.0.0.1:3306)/test", "--dsn", ":memory:"]);
    expect(plan.targets).toHaveLength(3);
  });

  it("imports plugins given as paths, and names a scheme no driver serves", async () => {
    const plugin = fileURLToPath(new URL("../__fixtures__/hang-driver.mjs", import.meta.url));
    expect((await resolve(["--plugin", plugin, "--dsn", "hang://db/x"])).plugins).toEqual([plugin]);
    expect(await errorOf(["--dsn", "nosuch://db/x"])).toBe('--dsn: no driver for "nosuch://db/x": scheme "nosuch" is not built in; name a plugin package with --plugin');
  });
});

describe("redaction does not swallow a DSN without a password", () => {
  it("shows a DB_HEALTH_DSN or dsnFile DSN in a driver message", async () => {
    const message = await resolveCli([], { DB_HEALTH_DSN: "nosuch://db/x" }, "1").catch((err: Error) => err.message);
    expect(message).toBe('DB_HEALTH_DSN: no driver for "nosuch://db/x": scheme "nosuch" is not built in; name a plugin package with --plugin');
  });
});

describe("third-party plugins that misbehave", () => {
  const fixture = (name: string): string => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));
  const once = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = "";
    let err = "";
    const io = { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env: {}, shutdown: new AbortController().signal };
    const code = await main(argv, io);
    return { code, out, err };
  };

  it("refuses two plugins that claim one scheme, naming both packages", async () => {
    const [a, b] = [fixture("plugin-twin-a.mjs"), fixture("plugin-twin-b.mjs")];
    expect(await errorOf(["--plugin", a, "--plugin", b, "--dsn", "twin://db/x"])).toBe(
      `plugin ${b}: two drivers claim the DSN scheme "twin": "twin" from db-health-driver-twin and "twin" from @acme/db-health-driver-twin; uninstall one of them`,
    );
  });

  it("reports a plugin that throws while it is imported, redacted, with exit code 3 and no stack trace", async () => {
    const plugin = fixture("plugin-throws.mjs");
    const { code, out, err } = await once(["--plugin", plugin, "--dsn", "postgres://app@127.0.0.1:5432/app", "--once"]);
    expect(code).toBe(3);
    expect(out).toBe("");
    expect(err).toBe(`healthcheck: invalid configuration:\n  plugin ${plugin} failed to load: cannot load libacme.so.3 (tried postgres://acme:***@db/acme)\n`);
  });

  it("says which plugins were loaded when none of them serves a scheme, and when a plugin file is missing", async () => {
    const silent = fixture("plugin-silent.mjs");
    expect(await errorOf(["--plugin", silent, "--dsn", "quiet://db/x"])).toBe(
      `--dsn: no driver for "quiet://db/x": scheme "quiet" is not built in; no plugin registers it (loaded: ${silent})`,
    );
    const missing = fixture("no-such-plugin.mjs");
    expect((await errorOf(["--plugin", missing, "--dsn", ":memory:"])).split("\n")).toContain(`plugin ${missing}: no such file`);
    expect((await errorOf(["--plugin", "db-health-driver-nosuch", "--dsn", ":memory:"])).split("\n")).toContain("plugin db-health-driver-nosuch: install db-health-driver-nosuch");
  });

  it("never lists a plugin that failed to load as loaded: it says it failed and why, redacted", async () => {
    const [engine, throws] = [fixture("plugin-engine.mjs"), fixture("plugin-throws.mjs")];
    expect((await errorOf(["--plugin", "db-health-driver-nope", "--dsn", "nope://u:Nope-S3cret@h/x"])).split("\n")).toEqual([
      "plugin db-health-driver-nope: install db-health-driver-nope",
      '--dsn: no driver for "nope://u@h/x": scheme "nope" is not built in; no plugin registers it (db-health-driver-nope failed to load: install db-health-driver-nope)',
    ]);
    const both = await errorOf(["--plugin", "db-health-driver-nope", "--plugin", engine, "--plugin", throws, "--dsn", "nope://h/x"]);
    expect(both.split("\n").at(-1)).toBe(
      `--dsn: no driver for "nope://h/x": scheme "nope" is not built in; no plugin registers it (loaded: ${engine}; db-health-driver-nope failed to load: install db-health-driver-nope; ${throws} failed to load: cannot load libacme.so.3 (tried postgres://acme:***@db/acme))`,
    );
    expect(both).not.toContain("Plugin-S3cret");
  });

  it("names a plugin's targets after its engine (the definition's name), not the DSN scheme", async () => {
    const engine = fixture("plugin-engine.mjs");
    const plan = await resolve(["--plugin", engine, "--dsn", "acmedb://h/x", "--dsn", "acme2://h/y", "--dsn", ":memory:"]);
    expect(plan.targets.map((t) => [t.config.name, t.definition.name, t.dsn.scheme])).toEqual([
      ["acme", "acme", "acmedb"],
      ["acme-2", "acme", "acme2"],
      ["sqlite", "sqlite", "file"],
    ]);
    const { code, out } = await once(["--plugin", engine, "--dsn", "acmedb://h/x", "--dsn", "acme2://h/y", "--once", "--format", "json"]);
    expect(code).toBe(0);
    expect((JSON.parse(out) as { targets: Array<{ target: string; driver: string }> }).targets.map((t) => [t.target, t.driver])).toEqual([
      ["acme", "acme"],
      ["acme-2", "acme"],
    ]);
    const tmp = tempDir();
    try {
      const file = tmp.write("hc.yaml", `plugins: [${JSON.stringify(engine)}]\ntargets:\n  - dsn: acmedb://h/x\n  - dsn: acme2://h/y\n`);
      expect((await once(["config", "check", file])).out).toBe("configuration is valid: 2 target(s): acme, acme-2\n");
    } finally {
      tmp.cleanup();
    }
  });

  it("reports an adapter that breaks the contract as degraded, with the rule it broke", async () => {
    const { code, out } = await once(["--plugin", fixture("plugin-liar.mjs"), "--dsn", "liar://db/x", "--dsn", "liar-role://db/y", "--once", "--format", "json"]);
    expect(code).toBe(1);
    const report = JSON.parse(out) as { targets: Array<{ status: string; role: string; reason: string }> };
    expect(report.targets.map((t) => [t.status, t.role, t.reason])).toEqual([
      ["degraded", "primary", "read-back returned a different token than was written"],
      [
        "degraded",
        "unknown",
        'role check failed: liar (db-health-driver-liar): role() returned { role: "leader" }: role must be "primary", "replica" or "unknown"; readOnly must be a boolean',
      ],
    ]);
  });
});
