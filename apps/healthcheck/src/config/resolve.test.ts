import { afterAll, describe, expect, it } from "vitest";
import { resolveError, resolveOk, tempDir } from "./__fixtures__/helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const yaml = tmp.write(
  "precedence.yaml",
  `listen: "127.0.0.1:9300"
logLevel: warn
probeCacheInterval: 10s
legacyMetrics: false
defaults:
  interval: 40s
  readTimeout: 1500ms
  maxRetries: 5
  writeCheck: never
targets:
  - name: orders
    dsn: postgres://app@db:5432/orders
    readTimeout: 900ms
  - name: shop
    dsn: mysql://app@tcp(db:3306)/shop
`,
);

describe("precedence: flag > env > YAML > default", () => {
  it("takes each per-target setting from the highest source that sets it", async () => {
    const plan = await resolveOk(["--config", yaml, "--interval", "20s"], { DB_HEALTH_INTERVAL: "30s", DB_HEALTH_MAX_RETRIES: "2" });
    expect(plan.targetOptions).toEqual([
      // interval: flag beats env and YAML defaults; maxRetries: env (converted to a number) beats YAML;
      // readTimeout: the target's own key beats the file's defaults; writeCheck: only in defaults.
      { name: "orders", dsn: "postgres://app@db:5432/orders", readTimeout: "900ms", interval: "20s", maxRetries: 2, writeCheck: "never" },
      { name: "shop", dsn: "mysql://app@tcp(db:3306)/shop", interval: "20s", readTimeout: "1500ms", maxRetries: 2, writeCheck: "never" },
    ]);
  });

  it("leaves settings nobody set to core's defaults (absent, not filled in)", async () => {
    const plan = await resolveOk(["--dsn", "file:a.db"]);
    expect(plan.targetOptions).toEqual([{ dsn: "file:a.db" }]);
    expect(plan).toMatchObject({ mode: "daemon", listen: { host: undefined, port: 9091 }, logLevel: "info", probeCacheMs: 5000, legacyMetrics: true, format: "text", degradedOk: false, command: [], plugins: [] });
    expect(plan.webConfigFile).toBeUndefined();
  });

  it("applies the same order to process-wide settings", async () => {
    const fromFile = await resolveOk(["--config", yaml]);
    expect(fromFile).toMatchObject({ listen: { host: "127.0.0.1", port: 9300 }, logLevel: "warn", probeCacheMs: 10_000, legacyMetrics: false });

    const env = { DB_HEALTH_LISTEN: ":9400", DB_HEALTH_LOG_LEVEL: "debug", DB_HEALTH_PROBE_CACHE_INTERVAL: "2s", DB_HEALTH_LEGACY_METRICS: "true" };
    expect(await resolveOk(["--config", yaml], env)).toMatchObject({ listen: { host: undefined, port: 9400 }, logLevel: "debug", probeCacheMs: 2000, legacyMetrics: true });

    const flags = ["--config", yaml, "--export-prom", "[::1]:9500", "--log-level", "error", "--probe-cache-interval", "1s", "--no-legacy-metrics"];
    expect(await resolveOk(flags, env)).toMatchObject({ listen: { host: "::1", port: 9500 }, logLevel: "error", probeCacheMs: 1000, legacyMetrics: false });
  });

  it("finds the file through DB_HEALTH_CONFIG, and --config wins over it", async () => {
    const other = tmp.write("other.yaml", "targets:\n  - dsn: file:other.db\n");
    expect((await resolveOk([], { DB_HEALTH_CONFIG: yaml })).targetOptions.map((t) => t.name)).toEqual(["orders", "shop"]);
    expect((await resolveOk(["--config", other], { DB_HEALTH_CONFIG: yaml })).targetOptions).toEqual([{ dsn: "file:other.db" }]);
  });

  it("does not let a flag's default hide the environment (--no-create-health-table, --export-prom)", async () => {
    const plan = await resolveOk(["--dsn", ":memory:"], { DB_HEALTH_CREATE_HEALTH_TABLE: "false", DB_HEALTH_LISTEN: ":9999", DB_HEALTH_LEGACY_METRICS: "false" });
    expect(plan.targetOptions[0]).toMatchObject({ createHealthTable: false });
    expect(plan.listen.port).toBe(9999);
    expect(plan.legacyMetrics).toBe(false);
    expect((await resolveOk(["--dsn", ":memory:", "--no-create-health-table"])).targetOptions[0]).toMatchObject({ createHealthTable: false });
  });

  it("treats empty variables as unset", async () => {
    const plan = await resolveOk(["--dsn", ":memory:"], { DB_HEALTH_DSN: "", DB_HEALTH_INTERVAL: "", DB_HEALTH_LISTEN: "" });
    expect(plan.targetOptions).toEqual([{ dsn: ":memory:" }]);
    expect(plan.listen.port).toBe(9091);
  });
});

describe("where the targets come from", () => {
  it("takes --dsn over DB_HEALTH_DSN over the file's targets", async () => {
    const env = { DB_HEALTH_DSN: "file:env.db", DB_HEALTH_CONFIG: yaml };
    expect((await resolveOk(["--dsn", "file:flag.db"], env)).targetOptions).toEqual([{ dsn: "file:flag.db", interval: "40s", readTimeout: "1500ms", maxRetries: 5, writeCheck: "never" }]);
    expect((await resolveOk([], env)).targetOptions.map((t) => t.dsn)).toEqual(["file:env.db"]);
    expect((await resolveOk([], { DB_HEALTH_CONFIG: yaml })).targetOptions).toHaveLength(2);
  });

  it("keeps DB_HEALTH_DSN whole: a comma is part of the DSN", async () => {
    const dsn = "Server=db,1433;Database=app;User Id=sa";
    expect((await resolveOk([], { DB_HEALTH_DSN: dsn })).targetOptions).toEqual([{ dsn }]);
  });

  it("pairs --name with --dsn by position; fewer names than DSNs is fine", async () => {
    const plan = await resolveOk(["--dsn", "file:a.db", "--name", "alpha", "--dsn", "file:b.db", "--dsn", "file:c.db", "--name", "beta"]);
    expect(plan.targetOptions).toEqual([{ dsn: "file:a.db", name: "alpha" }, { dsn: "file:b.db", name: "beta" }, { dsn: "file:c.db" }]);
  });

  it("names the DB_HEALTH_DSN target with one --name, and rejects names without targets to pair", async () => {
    expect((await resolveOk(["--name", "main"], { DB_HEALTH_DSN: ":memory:" })).targetOptions).toEqual([{ dsn: ":memory:", name: "main" }]);
    expect(await resolveError(["--dsn", ":memory:", "--name", "a", "--name", "b"])).toBe("--name: 2 names for 1 --dsn; each --name names the --dsn at the same position");
    expect(await resolveError(["--config", yaml, "--name", "x"])).toContain("--name: names --dsn targets only");
  });

  it("reports two targets with one name against the flags that named them", async () => {
    const message = await resolveError(["--dsn", "file:a.db", "--name", "x", "--dsn", "file:b.db", "--name", "x"]);
    expect(message).toBe('--name #2: "x" is already the name of --dsn #1; give each target its own name');
  });

  it("collects plugins from every source, without repeats, paths made absolute", async () => {
    const file = tmp.write("plugins.yaml", 'plugins: ["@acme/driver-x", "./local-driver.mjs"]\ntargets: [{ dsn: "file:x.db" }]\n');
    const plan = await resolveOk(["--config", file, "--plugin", "@acme/driver-y", "--plugin", "@acme/driver-x"], { DB_HEALTH_PLUGINS: "@acme/driver-z, @acme/driver-y" });
    expect(plan.plugins).toEqual(["@acme/driver-y", "@acme/driver-x", "@acme/driver-z", `${tmp.dir}/local-driver.mjs`]);
  });
});

describe("modes", () => {
  it("--once with --format and --degraded-ok", async () => {
    expect(await resolveOk(["--once", "--format", "json", "--degraded-ok", "--dsn", ":memory:"])).toMatchObject({ mode: "once", format: "json", degradedOk: true });
  });

  it("wrapper: everything after -- is the program, flags included", async () => {
    const plan = await resolveOk(["--dsn", ":memory:", "--", "postgres", "-c", "--once"]);
    expect(plan).toMatchObject({ mode: "daemon", command: ["postgres", "-c", "--once"] });
    expect(await resolveError(["--once", "--dsn", ":memory:", "--", "postgres"])).toBe("--once: cannot wrap a program: drop --once, or the program after --");
  });

  it("config check FILE validates that file with env and flags", async () => {
    const plan = await resolveOk(["config", "check", yaml, "--interval", "1m"]);
    expect(plan).toMatchObject({ mode: "config-check", argument: yaml });
    expect(plan.targetOptions.map((t) => [t.name, t.interval])).toEqual([["orders", "1m"], ["shop", "1m"]]);
    const bad = tmp.write("check-bad.yaml", "targets:\n  - dsn: file:x.db\n    interval: soon\n");
    expect(await resolveError(["config", "check", bad])).toBe(`${bad}: targets[0].interval (line 3): invalid duration "soon": use a number with a unit, e.g. 500ms, 2s, 1m`);
    expect(await resolveError(["config", "check"])).toContain("config check: name exactly one file to check");
    expect(await resolveError(["config", "check", `${tmp.dir}/missing.yaml`])).toBe(`config check: cannot read "${tmp.dir}/missing.yaml": ENOENT`);
    expect(await resolveError(["config", "chek", yaml])).toContain('did you mean "config check FILE"?');
  });

  it("status [URL]: the default URL, one derived from the listen address, or the one given", async () => {
    expect(await resolveOk(["status"])).toMatchObject({ mode: "status", argument: "http://127.0.0.1:9091/readyz", targets: [] });
    expect((await resolveOk(["status", "--export-prom", "0.0.0.0:9200"])).argument).toBe("http://127.0.0.1:9200/readyz");
    expect((await resolveOk(["status"], { DB_HEALTH_LISTEN: "[::1]:9201" })).argument).toBe("http://[::1]:9201/readyz");
    expect((await resolveOk(["status", "https://db-sidecar:9300/readyz"])).argument).toBe("https://db-sidecar:9300/readyz");
    expect(await resolveError(["status", "not a url"])).toContain('status: "not a url" is not an http(s) URL');
    // Credentials without a scheme, and a password longer than the part of the value shown: hidden
    // before the value is cut (a cut that removed the "@" would leave the password unrecognised).
    expect(await resolveError(["status", "admin:Zk7Q-pw@127.0.0.1:9091/readyz"])).toContain('status: "admin:***@127.0.0.1:9091/readyz" is not an http(s) URL');
    const long = "Zk7Q".repeat(30);
    const error = await resolveError(["status", `ftp://admin:${long}@127.0.0.1/readyz`]);
    expect(error).toContain('status: "ftp://admin:***@127.0.0.1/readyz" is not an http(s) URL');
    expect(error).not.toContain("Zk7Q");
    expect(await resolveError(["status", "a", "b"])).toContain("status: takes at most one URL");
    expect(await resolveError(["--once", "status"])).toContain('--once: cannot be combined with "status"');
  });

  it("status needs no target: a sidecar's HEALTHCHECK has none configured", async () => {
    await expect(resolveOk(["status"], { DB_HEALTH_INTERVAL: "soon" })).resolves.toMatchObject({ mode: "status" });
  });

  it("rejects unknown commands and flags", async () => {
    expect(await resolveError(["probe"])).toContain('"probe": unknown command');
    expect(await resolveError(["--dsn", ":memory:", "--bogus"])).toMatch(/^unknown option '--bogus'/);
  });
});
