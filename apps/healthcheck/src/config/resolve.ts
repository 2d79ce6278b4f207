/**
 * # Configuration: where settings come from
 *
 * `healthcheck` reads four sources. For each setting the first source that sets it wins:
 *
 * 1. **Command-line flags** (`--read-timeout 1s`)
 * 2. **Environment variables** (`DB_HEALTH_READ_TIMEOUT=1s`)
 * 3. **The YAML file** named by `--config FILE` or `DB_HEALTH_CONFIG` (`healthcheck config check FILE`
 *    checks FILE): for a target, its own keys first, then the file's `defaults:` block
 * 4. **Built-in defaults** (`healthcheck --help` shows each one)
 *
 * Flags and variables are global: they override a setting for every target, and only when
 * given explicitly (a flag's default never hides a variable or the file). `thresholds`,
 * `maxReplicationLag`, `healthTable` and `schema` can only be set in the file.
 *
 * **The targets** come from the first source that names any, as a whole: every `--dsn` (each
 * paired by position with a `--name`, if given), else `DB_HEALTH_DSN` or `DB_HEALTH_DSN_FILE` (one
 * target), else the file's `targets:`, else one target derived from the official database images'
 * variables (`POSTGRES_*`, `MYSQL_*`, `MARIADB_*`) on 127.0.0.1. With none of these the
 * configuration is invalid: `no database to probe`.
 *
 * **Plugins** add up: `--plugin`, `DB_HEALTH_PLUGINS` and the file's `plugins:` are all imported.
 *
 * **Secrets**: a variable `X_FILE` (`DB_HEALTH_DSN_FILE`, `POSTGRES_PASSWORD_FILE`,
 * `MYSQL_PASSWORD_FILE`, `MYSQL_ROOT_PASSWORD_FILE`, `MARIADB_PASSWORD_FILE`,
 * `MARIADB_ROOT_PASSWORD_FILE`) names a file whose content, without one trailing newline, is the
 * value of `X`; setting both is an error. In the file, a target's `dsnFile` holds its whole DSN and
 * `passwordFile` a password that is spliced into its DSN (URL-encoded in URL DSNs). Relative paths
 * in the file are relative to the file.
 *
 * **Limits**: every file is read without blocking and within a size limit (a FIFO, a device or
 * a directory is refused); the YAML file's nesting, its lists and mappings and its number of
 * targets are bounded before it is parsed (limits.ts, yaml-shape.ts).
 *
 * **Errors**: nothing is half-applied. Every problem of every source is reported at once, one per
 * line, prefixed with where the value came from (`--interval`, `DB_HEALTH_INTERVAL (interval)`,
 * `healthcheck.yaml: targets[1].readTimeout (line 7)`), with passwords redacted.
 */
import type { CliMode, CliPlan } from "../cli-plan.js";
import { daemonFlags } from "./daemon-flags.js";
import { readEnv } from "./env.js";
import { parseFlags } from "./flags.js";
import { resolveGlobals } from "./globals.js";
import { Problems, quote } from "./problems.js";
import type { YamlConfig } from "./yaml-file.js";

/** Options of {@link resolveCli} for embedding and tests. */
export interface ResolveOptions {
  /** Where `--help` and `--version` print. @default process.stdout */
  writeOut?: (text: string) => void;
  /**
   * Import the targets' drivers and plugins and let each driver check its DSN. Off only for
   * tests of the configuration itself, which must not depend on which drivers are installed;
   * the plan then has `targetOptions` but no resolved `targets` (and modules no `target`).
   * @default true
   */
  checkDrivers?: boolean;
  /**
   * Called as soon as the command line is parsed, before any file is read or module imported:
   * main.ts then knows how a stop signal during the rest of start-up should end this mode.
   */
  onMode?: (mode: CliMode, wrapping: boolean) => void;
}

/**
 * Merges flags, environment variables, the YAML file and defaults into the plan main.ts runs,
 * without connecting to anything. This is the one resolution of the targets: core checks each
 * (parsing its DSN once), its driver is found (installed? plugins load? DSN accepted?) and
 * looked up once, and the plan holds each target resolved (settings, parsed DSN, driver), and
 * each discovery module as a target on a stand-in address. Only the driver packages the targets
 * need are imported.
 *
 * @throws {HelpShown} after printing `--help` or `--version` (exit 0).
 * @throws {DbHealthError} kind `"config"` listing every problem, one per line, each prefixed with
 * its source; never a password or a whole DSN.
 * @example
 * ```ts
 * const plan = await resolveCli(["--once", "--dsn", "file:app.db"], process.env, "1.0.0");
 * plan.mode;                   // "once"
 * plan.targetOptions;          // [{ dsn: "file:app.db" }]
 * plan.targets[0]?.config.name; // "sqlite"
 * ```
 */
export async function resolveCli(argv: readonly string[], env: NodeJS.ProcessEnv, version: string, options: ResolveOptions = {}): Promise<CliPlan> {
  const problems = new Problems();
  const writeOut = options.writeOut ?? ((text: string) => void process.stdout.write(text));
  const flags = parseFlags(argv, version, problems, writeOut);
  // Plain `healthcheck status` (a HEALTHCHECK) asks where PID 1's daemon really listens.
  if (flags.mode === "status" && flags.argument === undefined && flags.listen === undefined && flags.config === undefined) Object.assign(flags, daemonFlags());
  options.onMode?.(flags.mode, flags.command.length > 0);
  const vars = readEnv(env, problems);

  const configPath = flags.mode === "config-check" ? flags.argument : (flags.config ?? vars.config);
  const source = flags.mode === "config-check" ? "config check" : flags.config !== undefined ? "--config" : "DB_HEALTH_CONFIG";
  if (flags.mode === "config-check" && flags.config !== undefined && flags.config !== flags.argument) {
    problems.add("--config", `names another file than "config check": drop one of them`);
  }
  let file: YamlConfig | "unreadable" | undefined;
  if (configPath !== undefined) {
    const { loadYamlFile } = await import("./yaml-file.js");
    file = (await loadYamlFile(configPath, source, problems)) ?? "unreadable";
  }
  const loaded = file === "unreadable" ? undefined : file;

  const globals = resolveGlobals(flags, vars, loaded, problems);
  const plan: CliPlan = { mode: flags.mode, targets: [], targetOptions: [], modules: [], ...globals, command: flags.command, warnings: [] };
  if (globals.webConfigFile === undefined) delete plan.webConfigFile;

  if (flags.mode === "status") {
    // status only asks a running daemon: its targets are that daemon's business.
    plan.argument = statusUrl(flags.argument, plan.listen, problems);
  } else {
    // Loaded only by the modes that have targets: `status`, `--help` and `--version` need
    // neither the target checks nor the driver loader.
    const { resolveTargets } = await import("./resolve-targets.js");
    await resolveTargets(plan, { flags, vars, file, env, problems, checkDrivers: options.checkDrivers !== false });
  }
  problems.throwIfAny();
  plan.warnings = problems.warnings;
  return plan;
}

/**
 * The `/readyz` URL `healthcheck status` asks: the one given, else the daemon's listen address
 * seen from this host (a wildcard address is reached over loopback).
 */
function statusUrl(given: string | undefined, listen: CliPlan["listen"], problems: Problems): string {
  if (given !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(given);
    } catch {
      // reported below
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) problems.add("status", `${quote(given, 80)} is not an http(s) URL, e.g. http://127.0.0.1:9091/readyz`);
    return given;
  }
  if (listen.port === 0) problems.add("status", "the listen port is 0 (any free port): pass the daemon's URL, e.g. healthcheck status http://127.0.0.1:PORT/readyz");
  const host = listen.host === undefined || listen.host === "0.0.0.0" || listen.host === "::" ? "127.0.0.1" : listen.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${listen.port}/readyz`;
}
