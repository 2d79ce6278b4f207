import { afterAll, describe, expect, it } from "vitest";
import { resolveError, resolveOk, tempDir } from "./__fixtures__/helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const dsn = ["--dsn", ":memory:"];

describe("the exporter toolkit's flag names", () => {
  it("--web.listen-address and --web.config.file are --export-prom and --web-config", async () => {
    const web = tmp.write("web.yml", "");
    const plan = await resolveOk([...dsn, "--web.listen-address", "127.0.0.1:9400", "--web.config.file", web]);
    expect(plan).toMatchObject({ listen: { host: "127.0.0.1", port: 9400 }, listenFrom: "--web.listen-address", webConfigFile: web });
    // a problem names the spelling that was typed
    expect(await resolveError([...dsn, "--web.listen-address", "999.1.1.1:1"])).toMatch(/^--web\.listen-address: "999\.1\.1\.1:1": /);
    expect(await resolveError([...dsn, "--web.config.file", tmp.dir])).toMatch(/^--web\.config\.file: /);
  });

  it("giving both spellings of one setting is an error, even with the same value", async () => {
    const web = tmp.write("both.yml", "");
    expect((await resolveError([...dsn, "--export-prom", ":9100", "--web.listen-address", ":9100", "--web-config", web, "--web.config.file", web])).split("\n")).toEqual([
      "--web.listen-address: the same setting as --export-prom: give only one of them",
      "--web.config.file: the same setting as --web-config: give only one of them",
    ]);
  });

  it("--web.listen-address finds the daemon for status, as --export-prom does", async () => {
    expect((await resolveOk(["status", "--web.listen-address", ":9100"])).argument).toBe("http://127.0.0.1:9100/readyz");
  });

  it("are daemon flags: not with --once", async () => {
    const lines = (await resolveError(["--once", ...dsn, "--web.listen-address", ":1", "--web.telemetry-path", "/m", "--web.timeout-offset", "1s", "--no-runtime-metrics"])).split("\n");
    expect(lines).toEqual(
      ["--web.listen-address", "--web.telemetry-path", "--web.timeout-offset", "--no-runtime-metrics"].map((f) => `${f}: does not apply with --once (it configures the daemon): drop it, or drop --once`),
    );
  });
});

describe("--web.telemetry-path", () => {
  it("defaults to /metrics and is taken from the flag, DB_HEALTH_TELEMETRY_PATH or telemetryPath:", async () => {
    expect((await resolveOk(dsn)).telemetryPath).toBe("/metrics");
    const file = tmp.write("path.yaml", "telemetryPath: /from-file\ntargets: [{ dsn: ':memory:' }]\n");
    expect((await resolveOk(["--config", file])).telemetryPath).toBe("/from-file");
    expect((await resolveOk(["--config", file], { DB_HEALTH_TELEMETRY_PATH: "/from-env" })).telemetryPath).toBe("/from-env");
    expect((await resolveOk(["--config", file, "--web.telemetry-path", "/exporter/metrics"], { DB_HEALTH_TELEMETRY_PATH: "/from-env" })).telemetryPath).toBe("/exporter/metrics");
  });

  it("must start with / and not be another endpoint", async () => {
    const why = (v: string): Promise<string> => resolveError([...dsn, "--web.telemetry-path", v]);
    expect(await why("metrics")).toBe('--web.telemetry-path: must be a path such as /metrics: "/" then up to 255 letters, digits, "-", ".", "_", "~" or "/", got "metrics"');
    expect(await why("/metrics?x=1")).toMatch(/^--web\.telemetry-path: must be a path such as \/metrics/);
    expect(await why("/met rics")).toMatch(/^--web\.telemetry-path: must be a path such as \/metrics/);
    for (const reserved of ["/", "/probe", "/healthz", "/readyz", "/health"]) {
      expect(await why(reserved)).toBe(`--web.telemetry-path: ${reserved} is another endpoint of the exporter (/, /probe, /healthz, /readyz, /health): pick another path, e.g. /metrics`);
    }
    const file = tmp.write("badpath.yaml", "telemetryPath: 42\ntargets: [{ dsn: ':memory:' }]\n");
    expect(await resolveError(["--config", file])).toMatch(/telemetryPath \(line 1\): must be a path such as \/metrics.*got "42"$/);
  });
});

describe("--web.timeout-offset", () => {
  it("defaults to 500ms and takes a duration from 0 to 1m", async () => {
    expect((await resolveOk(dsn)).timeoutOffsetMs).toBe(500);
    expect((await resolveOk([...dsn, "--web.timeout-offset", "0"])).timeoutOffsetMs).toBe(0);
    expect((await resolveOk([...dsn], { DB_HEALTH_TIMEOUT_OFFSET: "1.5s" })).timeoutOffsetMs).toBe(1500);
    const file = tmp.write("offset.yaml", "timeoutOffset: 250ms\ntargets: [{ dsn: ':memory:' }]\n");
    expect((await resolveOk(["--config", file])).timeoutOffsetMs).toBe(250);
  });

  it("names the source of a bad value", async () => {
    expect(await resolveError([...dsn, "--web.timeout-offset", "0.5"])).toBe('--web.timeout-offset: invalid duration "0.5": use a number with a unit, e.g. 500ms, 2s, 1m');
    expect(await resolveError([...dsn], { DB_HEALTH_TIMEOUT_OFFSET: "2m" })).toBe("DB_HEALTH_TIMEOUT_OFFSET: must be between 0 and 1m");
  });
});

describe("runtime metrics", () => {
  it("are on unless --no-runtime-metrics, DB_HEALTH_RUNTIME_METRICS=false or runtimeMetrics: false", async () => {
    expect((await resolveOk(dsn)).runtimeMetrics).toBe(true);
    expect((await resolveOk([...dsn, "--no-runtime-metrics"])).runtimeMetrics).toBe(false);
    expect((await resolveOk(dsn, { DB_HEALTH_RUNTIME_METRICS: "off" })).runtimeMetrics).toBe(false);
    const file = tmp.write("runtime.yaml", "runtimeMetrics: false\ntargets: [{ dsn: ':memory:' }]\n");
    expect((await resolveOk(["--config", file])).runtimeMetrics).toBe(false);
    expect((await resolveOk(["--config", file], { DB_HEALTH_RUNTIME_METRICS: "true" })).runtimeMetrics).toBe(true);
  });

  it("take only a boolean", async () => {
    expect(await resolveError(dsn, { DB_HEALTH_RUNTIME_METRICS: "maybe" })).toBe('DB_HEALTH_RUNTIME_METRICS: must be true or false, got "maybe"');
    const file = tmp.write("runtime-bad.yaml", "runtimeMetrics: nope\ntargets: [{ dsn: ':memory:' }]\n");
    expect(await resolveError(["--config", file])).toMatch(/runtimeMetrics \(line 1\): must be true or false, got "nope"$/);
  });
});
