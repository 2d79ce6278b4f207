import { describe, expect, it } from "vitest";
import { HelpShown } from "../args.js";
import { resolveError, resolveOk } from "./__fixtures__/helpers.js";
import { resolveCli } from "./resolve.js";
import { TARGET_SETTINGS } from "./settings.js";

const FLAGS = [
  "--dsn", "--name", "--config", "--plugin", "--once", "--format", "--degraded-ok", "--export-prom", "--web-config",
  "--web.listen-address", "--web.config.file", "--web.telemetry-path", "--web.timeout-offset", "--no-runtime-metrics",
  "--no-legacy-metrics", "--log-level", "--probe-cache-interval", "--interval", "--connect-timeout", "--read-timeout",
  "--write-timeout", "--max-retries", "--retry-interval", "--role", "--write-check", "--no-create-health-table",
  "--probe-id", "--prune-after", "--help", "--version",
];

const ENV = [
  "DB_HEALTH_DSN", "DB_HEALTH_DSN_FILE", "DB_HEALTH_CONFIG", "DB_HEALTH_PLUGINS", "DB_HEALTH_LISTEN", "DB_HEALTH_WEB_CONFIG",
  "DB_HEALTH_LEGACY_METRICS", "DB_HEALTH_RUNTIME_METRICS", "DB_HEALTH_TELEMETRY_PATH", "DB_HEALTH_TIMEOUT_OFFSET", "DB_HEALTH_LOG_LEVEL", "DB_HEALTH_PROBE_CACHE_INTERVAL", "DB_HEALTH_INTERVAL",
  "DB_HEALTH_CONNECT_TIMEOUT", "DB_HEALTH_READ_TIMEOUT", "DB_HEALTH_WRITE_TIMEOUT", "DB_HEALTH_MAX_RETRIES",
  "DB_HEALTH_RETRY_INTERVAL", "DB_HEALTH_ROLE", "DB_HEALTH_WRITE_CHECK", "DB_HEALTH_CREATE_HEALTH_TABLE",
  "DB_HEALTH_PROBE_ID", "DB_HEALTH_PRUNE_AFTER", "POSTGRES_USER", "POSTGRES_PASSWORD_FILE", "POSTGRES_DB", "PGPORT",
  "MYSQL_PASSWORD_FILE", "MYSQL_ROOT_PASSWORD_FILE", "MARIADB_PASSWORD_FILE", "MARIADB_ROOT_PASSWORD_FILE", "MYSQL_TCP_PORT",
];

async function help(argv: string[] = ["--help"]): Promise<string> {
  let out = "";
  await expect(resolveCli(argv, {}, "1.2.3", { writeOut: (s) => (out += s) })).rejects.toBeInstanceOf(HelpShown);
  // Commander wraps long descriptions; join the lines so that phrases can be searched.
  return out.replace(/\n\s{20,}/g, " ");
}

describe("--help", () => {
  it("lists every flag and every variable", async () => {
    const text = await help();
    for (const flag of FLAGS) expect(text).toMatch(new RegExp(`^\\s+(-\\w, )?${flag}\\b`, "m"));
    for (const name of ENV) expect(text).toContain(name);
  });

  it("shows each per-target setting with its variable and core's default", async () => {
    const text = await help(["-h"]);
    for (const s of TARGET_SETTINGS) {
      const line = text.split("\n").find((l) => l.trimStart().startsWith(s.flag));
      expect(line, s.flag).toBeDefined();
      expect(line).toContain(`env: ${s.env}`);
      expect(line).toContain(`default: ${s.shownDefault}`);
    }
    expect(text).toMatch(/--interval <duration> .*\(env: DB_HEALTH_INTERVAL, default: 15s\)/);
    expect(text).toMatch(/--export-prom <\[host\]:port> .*default: :9091/);
  });

  it("explains commands, precedence, the YAML file, image variables and exit codes", async () => {
    const text = await help();
    for (const part of ["config check FILE", "status [URL]", "-- program args...", "Where settings come from", "YAML file", "passwordFile", "POSTGRES_USER", "Exit codes"]) {
      expect(text).toContain(part);
    }
  });

  it("prints the version", async () => {
    let out = "";
    await expect(resolveCli(["--version"], {}, "1.2.3", { writeOut: (s) => (out += s) })).rejects.toBeInstanceOf(HelpShown);
    expect(out).toBe("1.2.3\n");
  });
});

describe("usage errors", () => {
  it("stops at an unknown flag or a missing value, naming it", async () => {
    await expect(resolveCli(["--intervl", "5s"], {}, "1")).rejects.toThrow(/^unknown option '--intervl'.*\(Did you mean --interval\?\).*see healthcheck --help/s);
    await expect(resolveCli(["--dsn"], {}, "1")).rejects.toThrow("option '--dsn <dsn>' argument missing (see healthcheck --help)");
  });
});

describe("flags a mode would ignore", () => {
  const error = async (argv: string[]): Promise<string[]> => (await resolveError(argv)).split("\n");
  const dsn = ["--dsn", ":memory:"];

  it("--format and --degraded-ok need --once", async () => {
    for (const [before, after] of [[[], []], [["config", "check", "x.yaml"], []], [[], ["--", "postgres"]]]) {
      const lines = await error([...before!, ...dsn, "--format", "json", "--degraded-ok", ...after!]);
      expect(lines).toContain("--format: only applies with --once");
      expect(lines).toContain("--degraded-ok: only applies with --once");
    }
  });

  it("the daemon's flags do not go with --once; config check takes them (it checks that run)", async () => {
    const daemonFlags = ["--export-prom", ":9100", "--web-config", "web.yml", "--no-legacy-metrics", "--log-level", "debug", "--probe-cache-interval", "2s"];
    expect((await error(["--once", ...dsn, ...daemonFlags])).filter((l) => !l.includes("ENOENT"))).toEqual(
      ["--export-prom", "--web-config", "--no-legacy-metrics", "--log-level", "--probe-cache-interval"].map((f) => `${f}: does not apply with --once (it configures the daemon): drop it, or drop --once`),
    );
    expect((await resolveOk(["--dsn", ":memory:", "--interval", "5s", "--export-prom", ":9100"])).mode).toBe("daemon");
  });

  it("status takes only what finds the daemon, and nothing of that with a URL", async () => {
    expect(await error(["status", ...dsn, "--plugin", "x", "--interval", "5s", "--no-create-health-table"])).toEqual(
      ["--dsn", "--plugin", "--interval", "--no-create-health-table"].map((f) => `${f}: not used by "status", which only asks a running daemon: drop it`),
    );
    expect((await resolveOk(["status", "--export-prom", ":9100"])).argument).toBe("http://127.0.0.1:9100/readyz");
    expect(await error(["status", "http://db:9091/readyz", "--export-prom", ":9100"])).toEqual(['--export-prom: not used by "status" when it is given a URL: drop one of them']);
  });

  it("variables and YAML keys are never held against a mode", async () => {
    expect((await resolveOk(["--once", ...dsn], { DB_HEALTH_LISTEN: ":9100", DB_HEALTH_LOG_LEVEL: "debug" })).mode).toBe("once");
    expect((await resolveOk(["status"], { DB_HEALTH_DSN: ":memory:", DB_HEALTH_INTERVAL: "5s" })).mode).toBe("status");
  });

  it("a -- needs a program after it", async () => {
    const line = "nothing to wrap after --: name the program (e.g. healthcheck -- docker-entrypoint.sh postgres), or drop the --";
    expect(await error([...dsn, "--"])).toEqual([line]);
    expect(await error([...dsn, "--", " ", "arg"])).toEqual([line]);
    expect((await resolveOk([...dsn, "--", "postgres", ""])).command).toEqual(["postgres", ""]);
  });
});

describe("listen addresses", () => {
  it("refuse a host that can be neither an IP address nor a host name, from any source", async () => {
    const why = (v: string, host: string): string => `"${v}": ${host} is not an IPv4 address (four numbers from 0 to 255, e.g. 127.0.0.1)`;
    expect(await resolveError(["--dsn", ":memory:", "--export-prom", "999.1.1.1:20001"])).toBe(`--export-prom: ${why("999.1.1.1:20001", "999.1.1.1")}`);
    expect(await resolveError(["--dsn", ":memory:"], { DB_HEALTH_LISTEN: "10.0.0:9091" })).toBe(`DB_HEALTH_LISTEN: ${why("10.0.0:9091", "10.0.0")}`);
    expect(await resolveError(["--dsn", ":memory:", "--export-prom", "[db]:9091"])).toBe('--export-prom: "[db]:9091": "db" in brackets is not an IPv6 address');
    expect(await resolveError(["--dsn", ":memory:", "--export-prom", "my host:9091"])).toMatch(/^--export-prom: "my host:9091": "my host" is not an IP address or a host name/);
  });

  it("accept IP addresses and host names, and remember where the address came from", async () => {
    for (const [value, host] of [["0.0.0.0:1", "0.0.0.0"], ["[::]:1", "::"], ["localhost:1", "localhost"], ["db_1.example.com.:1", "db_1.example.com."]]) {
      expect((await resolveOk(["--dsn", ":memory:", "--export-prom", value!])).listen).toEqual({ host, port: 1 });
    }
    expect((await resolveOk(["--dsn", ":memory:"], { DB_HEALTH_LISTEN: ":9100" })).listenFrom).toBe("DB_HEALTH_LISTEN");
    expect((await resolveOk(["--dsn", ":memory:"])).listenFrom).toBe("--export-prom");
  });
});
