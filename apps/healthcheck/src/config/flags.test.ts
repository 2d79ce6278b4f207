import { describe, expect, it } from "vitest";
import { HelpShown } from "../args.js";
import { resolveCli } from "./resolve.js";
import { TARGET_SETTINGS } from "./settings.js";

const FLAGS = [
  "--dsn", "--name", "--config", "--plugin", "--once", "--format", "--degraded-ok", "--export-prom", "--web-config",
  "--no-legacy-metrics", "--log-level", "--probe-cache-interval", "--interval", "--connect-timeout", "--read-timeout",
  "--write-timeout", "--max-retries", "--retry-interval", "--role", "--write-check", "--no-create-health-table",
  "--probe-id", "--prune-after", "--help", "--version",
];

const ENV = [
  "DB_HEALTH_DSN", "DB_HEALTH_DSN_FILE", "DB_HEALTH_CONFIG", "DB_HEALTH_PLUGINS", "DB_HEALTH_LISTEN", "DB_HEALTH_WEB_CONFIG",
  "DB_HEALTH_LEGACY_METRICS", "DB_HEALTH_LOG_LEVEL", "DB_HEALTH_PROBE_CACHE_INTERVAL", "DB_HEALTH_INTERVAL",
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
