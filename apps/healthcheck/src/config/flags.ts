/**
 * Command-line flags and commands, parsed with commander. Only values the user typed count:
 * a flag's default must never override the environment or the YAML file.
 */
import { createRequire } from "node:module";
import type { Command } from "commander";
import { DbHealthError, formatDuration } from "@alfred/db-health-core";
import { HelpShown } from "../args.js";
import type { CliMode } from "../cli-plan.js";
import { ENV_VARS, settingLabel } from "./env.js";
import { misplacedFlag } from "./flag-modes.js";
import { DESCRIPTION, HELP_AFTER, USAGE } from "./help.js";
import { fixed, quote, type Problems, type Where } from "./problems.js";
import { convertSetting, DEFAULT_LISTEN, DEFAULT_TELEMETRY_PATH, DEFAULT_TIMEOUT_OFFSET_MS, TARGET_SETTINGS, type TargetKey } from "./settings.js";

/** What the command line says; optional fields are absent when the flag was not given. */
export interface FlagInput {
  mode: CliMode;
  /** `config check FILE` / `status URL`. */
  argument?: string;
  /** Everything after `--`. */
  command: string[];
  dsns: string[];
  names: string[];
  plugins: string[];
  config?: string;
  target: Partial<Record<TargetKey, { value: unknown; where: Where }>>;
  listen?: string;
  /** The spelling `listen` was given with: `--export-prom` or `--web.listen-address`. */
  listenFlag?: string;
  webConfig?: string;
  /** The spelling `webConfig` was given with: `--web-config` or `--web.config.file`. */
  webConfigFlag?: string;
  logLevel?: string;
  probeCacheInterval?: string;
  /** `--duration-buckets`: `fine` or seconds separated by commas. */
  durationBuckets?: string;
  telemetryPath?: string;
  timeoutOffset?: string;
  /** Only ever `false` (`--no-legacy-metrics`). */
  legacyMetrics?: false;
  /** Only ever `false` (`--no-runtime-metrics`). */
  runtimeMetrics?: false;
  format?: string;
  degradedOk: boolean;
}

/**
 * Settings with two flags: ours, and the Prometheus exporter toolkit's that operators type by
 * habit. Each pair is [commander attribute, flag]; giving both spellings is a mistake to report.
 */
const SPELLINGS = [
  { field: "listen", spelling: "listenFlag", spellings: [["exportProm", "--export-prom"], ["web.listenAddress", "--web.listen-address"]] },
  { field: "webConfig", spelling: "webConfigFlag", spellings: [["webConfig", "--web-config"], ["web.config.file", "--web.config.file"]] },
] as const;

// No default list: commander would print "(default: [])" in the help.
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
const about = (help: string, env?: string, shownDefault?: string): string =>
  `${help}${env || shownDefault ? ` (${[env && `env: ${env}`, shownDefault && `default: ${shownDefault}`].filter(Boolean).join(", ")})` : ""}`;

// The bundled CLI carries commander as a chunk of its own; this is its path from the chunk that
// holds this module (scripts/bundle.mjs). Elsewhere commander comes from node_modules.
declare const __COMMANDER_CHUNK__: string | undefined;
let commander: typeof import("commander") | undefined;
/**
 * commander, loaded the first time a command line has an option: `healthcheck status [URL]`,
 * `config check FILE` and a daemon configured by its environment (the images' `CMD`) are read
 * without it. With require, not import(): loading stays synchronous, and the bundled CLI
 * (CommonJS) needs no ES module loader for it.
 */
const loadCommander = (): typeof import("commander") =>
  (commander ??= createRequire(import.meta.url)(typeof __COMMANDER_CHUNK__ !== "undefined" ? __COMMANDER_CHUNK__ : "commander") as typeof import("commander"));

/** One flag as commander declares it, with its help text; `collect` flags may be repeated. */
interface FlagSpec {
  flags: string;
  help: string;
  collect?: true;
}

/**
 * Every flag of the command line, in help order, with the heading of each group: the one list
 * that both commander's program and the plain reader below are made from.
 */
function flagSpecs(): (FlagSpec | { group: string })[] {
  return [
    { group: "Targets:" },
    { flags: "--dsn <dsn>", help: about("database to probe; repeat for several targets", `${ENV_VARS.dsn} or ${ENV_VARS.dsn}_FILE`), collect: true },
    { flags: "--name <name>", help: about("name of the --dsn at the same position, for the target label and /probe?target=", undefined, "the engine: postgres, mysql, sqlite, mssql; then -2, -3…"), collect: true },
    { flags: "--config <file>", help: about("YAML file with targets and settings (see below)", ENV_VARS.config) },
    { flags: "--plugin <package>", help: about("import a third-party driver package or file; repeatable", `${ENV_VARS.plugins}, comma-separated`), collect: true },
    { group: "One-shot check:" },
    { flags: "--once", help: "probe every target once, print the result and exit (codes below)" },
    { flags: "--format <format>", help: about("output of --once: text or json", undefined, "text") },
    { flags: "--degraded-ok", help: "with --once, exit 0 when a target is degraded (not when down)" },
    { group: "Daemon:" },
    { flags: "--export-prom <[host]:port>", help: about("where to serve /metrics, /probe, /healthz, /readyz, /health", ENV_VARS.listen, DEFAULT_LISTEN) },
    { flags: "--web.listen-address <[host]:port>", help: "the same as --export-prom (the exporter toolkit's name)" },
    { flags: "--web-config <file>", help: about("TLS and basic auth, Prometheus exporter-toolkit format", ENV_VARS.webConfig, "plain HTTP, no auth") },
    { flags: "--web.config.file <file>", help: "the same as --web-config (the exporter toolkit's name)" },
    { flags: "--web.telemetry-path <path>", help: about("path of the metrics endpoint", ENV_VARS.telemetryPath, DEFAULT_TELEMETRY_PATH) },
    {
      flags: "--web.timeout-offset <duration>",
      help: about("taken off Prometheus' scrape timeout (X-Prometheus-Scrape-Timeout-Seconds) to give /probe and /metrics their time (0 to 1m)", ENV_VARS.timeoutOffset, formatDuration(DEFAULT_TIMEOUT_OFFSET_MS)),
    },
    { flags: "--no-legacy-metrics", help: about("drop db_read_latency_ms, db_write_latency_ms and db_connection_count", `${ENV_VARS.legacyMetrics}=false`, "kept") },
    { flags: "--no-runtime-metrics", help: about("drop the exporter's own process_* and nodejs_* metrics", `${ENV_VARS.runtimeMetrics}=false`, "exported") },
    { flags: "--duration-buckets <seconds,...>", help: about("bounds of db_probe_duration_seconds, or fine for 0.5ms to 10s in 14 steps", ENV_VARS.durationBuckets, "0.001,0.005,0.025,0.1,0.2,0.5,2,5") },
    { flags: "--log-level <level>", help: about("debug, info, warn or error", ENV_VARS.logLevel, "info") },
    { flags: "--probe-cache-interval <duration>", help: about("/probe answers from a result younger than this (100ms to 1h)", ENV_VARS.probeCacheInterval, "5s") },
    { group: "Per-target settings (override every target):" },
    ...TARGET_SETTINGS.map((s) => ({ flags: s.flag, help: about(s.help, s.kind === "bool" ? `${s.env}=false` : s.env, s.shownDefault) })),
  ];
}

/**
 * The `healthcheck` command: every flag with its variable and default in the help.
 *
 * @example
 * ```ts
 * buildProgram("1.0.0", (s) => process.stdout.write(s)).helpInformation();
 * ```
 */
export function buildProgram(version: string, writeOut: (text: string) => void): Command {
  const { Command, Option } = loadCommander();
  const program = new Command("healthcheck")
    .description(DESCRIPTION)
    .usage(USAGE)
    .argument("[command...]")
    .helpOption("-h, --help", "show this help")
    .version(version, "-V, --version", "print the version");
  for (const spec of flagSpecs()) {
    if ("group" in spec) program.optionsGroup(spec.group);
    else {
      const option = new Option(spec.flags, spec.help);
      program.addOption(spec.collect ? option.argParser(collect) : option);
    }
  }
  return program
    .allowExcessArguments(false)
    .exitOverride()
    .configureHelp({ helpWidth: 110 })
    .configureOutput({ writeOut, writeErr: () => undefined, outputError: () => undefined })
    .addHelpText("after", HELP_AFTER);
}

/** A command line read into the flags given, their values and the words that are not flags. */
export interface ReadFlags {
  /** Values by commander's attribute name (`--degraded-ok` → `degradedOk`). */
  values: Record<string, unknown>;
  /** Attribute names of the flags typed on the command line. */
  given: ReadonlySet<string>;
  /** The words that are not flags, in order. */
  args: string[];
  /** Every flag, in declaration order: its attribute name and its long spelling. */
  flags: readonly { attribute: string; long: string }[];
}

interface PlainFlag {
  attribute: string;
  long: string;
  value: boolean;
  negate: boolean;
  collect: boolean;
}
/** commander's attribute name: `--web.listen-address` → `web.listenAddress`, `--no-x-y` → `xY`. */
const attributeOf = (long: string): string =>
  long.replace(/^--(no-)?/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
/** The flags by long spelling, and the list every read returns; made from {@link flagSpecs} once. */
let plain: { byLong: Map<string, PlainFlag>; list: ReadFlags["flags"] } | undefined;
const plainFlags = (): NonNullable<typeof plain> => {
  if (plain) return plain;
  const flags = flagSpecs().flatMap((spec): PlainFlag[] => {
    if ("group" in spec) return [];
    const long = spec.flags.split(" ")[0]!;
    return [{ attribute: attributeOf(long), long, value: spec.flags.includes("<"), negate: long.startsWith("--no-"), collect: spec.collect === true }];
  });
  return (plain = { byLong: new Map(flags.map((f) => [f.long, f])), list: flags.map(({ attribute, long }) => ({ attribute, long })) });
};

/**
 * Reads a command line the way commander would, for the shapes that are read the same way every
 * time — `--flag`, `--flag value`, `--flag=value` with known long flags, and words — or returns
 * `undefined` for anything else (short flags, an unknown flag, `--help`, `--version`, a value
 * that is missing, empty or starts with `-`, a flag given twice that is not repeatable), which
 * commander then reads, with its own messages. Loading and building commander's program costs
 * ~4 ms of every `--once`.
 *
 * @example
 * ```ts
 * readPlainFlags(["--once", "--dsn", "file:app.db"])?.values; // { once: true, dsn: ["file:app.db"] }
 * readPlainFlags(["-h"]); // undefined
 * ```
 */
export function readPlainFlags(own: readonly string[]): ReadFlags | undefined {
  const { byLong, list } = plainFlags();
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  const args: string[] = [];
  for (let i = 0; i < own.length; i++) {
    const word = own[i]!;
    if (!word.startsWith("-")) {
      args.push(word);
      continue;
    }
    const eq = word.indexOf("=");
    const flag = byLong.get(eq === -1 ? word : word.slice(0, eq));
    if (!flag) return undefined;
    if (!flag.collect && given.has(flag.attribute)) return undefined;
    if (flag.value) {
      const value = eq === -1 ? own[++i] : word.slice(eq + 1);
      if (value === undefined || value === "" || value.startsWith("-")) return undefined;
      values[flag.attribute] = flag.collect ? [...((values[flag.attribute] as string[] | undefined) ?? []), value] : value;
    } else {
      if (eq !== -1) return undefined;
      values[flag.attribute] = !flag.negate;
    }
    given.add(flag.attribute);
  }
  return { values, given, args, flags: list };
}

/**
 * The same command line read by commander; `--help` and `--version` print and throw
 * {@link HelpShown}, usage errors throw a config error.
 *
 * @example
 * ```ts
 * readCommanderFlags(["--once", "--dsn=file:app.db"], "1.0.0", console.log).given.has("once"); // true
 * ```
 */
export function readCommanderFlags(own: readonly string[], version: string, writeOut: (text: string) => void): ReadFlags {
  const program = parseOptions(own, version, writeOut);
  // `--version` is answered (HelpShown), never a setting.
  const flags = program.options.filter((option) => option.long !== "--version").map((option) => ({ attribute: option.attributeName(), long: option.long! }));
  const given = new Set(flags.map((f) => f.attribute).filter((key) => program.getOptionValueSource(key) === "cli"));
  const all = program.opts();
  const values = Object.fromEntries([...given].map((key) => [key, all[key]]));
  return { values, given, args: [...program.args], flags };
}

/**
 * Parses argv (without node and the script). Usage errors that leave the rest unreadable
 * (unknown flag, missing value) throw a config error at once; every other problem is added to
 * `problems` so that it is reported with the rest.
 *
 * @throws {HelpShown} after `--help` / `--version` printed through `writeOut`.
 * @example
 * ```ts
 * const flags = parseFlags(["--once", "--dsn", "file:app.db"], "1.0.0", problems, console.log);
 * flags.mode; // "once"
 * ```
 */
export function parseFlags(argv: readonly string[], version: string, problems: Problems, writeOut: (text: string) => void): FlagInput {
  const dashdash = argv.indexOf("--");
  const own = dashdash === -1 ? argv : argv.slice(0, dashdash);
  let command = dashdash === -1 ? [] : argv.slice(dashdash + 1);
  if (dashdash !== -1 && !command[0]?.trim()) {
    // spawn("") fails only after the port is bound; a bare "--" would run a plain daemon.
    problems.add(undefined, "nothing to wrap after --: name the program (e.g. healthcheck -- docker-entrypoint.sh postgres), or drop the --");
    command = [];
  }
  // Commander is loaded only for what the plain reader leaves to it (help, short flags, mistakes).
  const read = readPlainFlags(own) ?? readCommanderFlags(own, version, writeOut);
  const o = read.values;
  const given = (key: string): boolean => read.given.has(key);
  const text = (key: string): string | undefined => (given(key) ? (o[key] as string) : undefined);

  const target: FlagInput["target"] = {};
  for (const s of TARGET_SETTINGS) {
    if (!given(s.key)) continue;
    const flag = s.flag.split(" ")[0]!;
    const converted = convertSetting(s.kind, String(o[s.key]));
    target[s.key] = { value: "value" in converted ? converted.value : o[s.key], where: fixed(settingLabel(flag, s.key)) };
  }
  const flags: FlagInput = {
    ...commandMode(read.args, given("once"), command.length > 0, problems),
    command: [...command],
    dsns: (o.dsn as string[] | undefined) ?? [],
    names: (o.name as string[] | undefined) ?? [],
    plugins: (o.plugin as string[] | undefined) ?? [],
    target,
    degradedOk: given("degradedOk"),
  };
  const optional = {
    config: "config",
    logLevel: "logLevel",
    probeCacheInterval: "probeCacheInterval",
    durationBuckets: "durationBuckets",
    format: "format",
    telemetryPath: "web.telemetryPath",
    timeoutOffset: "web.timeoutOffset",
  } as const;
  for (const [field, key] of Object.entries(optional)) {
    const value = text(key);
    if (value !== undefined) flags[field as keyof typeof optional] = value;
  }
  for (const { field, spelling, spellings } of SPELLINGS) {
    const named = spellings.filter(([key]) => given(key));
    if (named.length > 1) problems.add(named[1]![1], `the same setting as ${named[0]![1]}: give only one of them`);
    const [key, flag] = named[0] ?? [];
    if (key === undefined) continue;
    flags[field] = o[key] as string;
    flags[spelling] = flag;
  }
  if (given("legacyMetrics")) flags.legacyMetrics = false;
  if (given("runtimeMetrics")) flags.runtimeMetrics = false;
  for (const flag of read.flags) {
    const wrong = given(flag.attribute) ? misplacedFlag(flag.attribute, flags.mode, flags.argument !== undefined) : undefined;
    if (wrong) problems.add(flag.long, wrong);
  }
  return flags;
}

/** The command line parsed by commander; `--help` and `--version` print and throw {@link HelpShown}. */
function parseOptions(own: readonly string[], version: string, writeOut: (text: string) => void): Command {
  // `--version` alone, the usual way to ask, is answered without building the program; commander
  // would print the same line.
  if (own.length === 1 && (own[0] === "--version" || own[0] === "-V")) {
    writeOut(`${version}\n`);
    throw new HelpShown();
  }
  const program = buildProgram(version, writeOut);
  try {
    program.parse([...own], { from: "user" });
  } catch (err) {
    if (!(err instanceof loadCommander().CommanderError)) throw err;
    if (["commander.helpDisplayed", "commander.version", "commander.help"].includes(err.code)) throw new HelpShown();
    throw new DbHealthError("config", `${err.message.replace(/^error: /, "")} (see healthcheck --help)`);
  }
  return program;
}

/** The mode and its argument from the words that are not flags. */
function commandMode(words: readonly string[], once: boolean, wrapping: boolean, problems: Problems): { mode: CliMode; argument?: string } {
  const [first, second, ...rest] = words;
  let result: { mode: CliMode; argument?: string } = { mode: once ? "once" : "daemon" };
  if (first === "config" && second === "check") {
    if (rest.length !== 1) problems.add("config check", "name exactly one file to check, e.g. healthcheck config check healthcheck.yaml");
    result = rest[0] === undefined ? { mode: "config-check" } : { mode: "config-check", argument: rest[0] };
  } else if (first === "config") {
    problems.add("config", `unknown command ${quote(second ?? "")}; did you mean "config check FILE"?`);
  } else if (first === "status") {
    if (rest.length > 0) problems.add("status", "takes at most one URL, e.g. healthcheck status http://127.0.0.1:9091/readyz");
    result = second === undefined ? { mode: "status" } : { mode: "status", argument: second };
  } else if (first !== undefined) {
    problems.add(quote(first), 'unknown command: commands are "config check FILE" and "status [URL]"; a program to wrap goes after --');
  }
  if (result.mode !== "daemon" && result.mode !== "once" && once) problems.add("--once", `cannot be combined with "${result.mode === "status" ? "status" : "config check"}"`);
  if (wrapping && once) problems.add("--once", "cannot wrap a program: drop --once, or the program after --");
  else if (wrapping && result.mode !== "daemon" && result.mode !== "once") problems.add("--", `a program to wrap cannot follow "${result.mode === "status" ? "status" : "config check"}"`);
  return result;
}
