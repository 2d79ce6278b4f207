/**
 * The YAML file's `modules:`: how discovered targets (`/probe?module=NAME&target=HOST:PORT[/DB]`)
 * are reached and what each module may reach. Every problem names its YAML line; a module is
 * checked as a target would be (core's schema, its driver) on a stand-in address, so that a
 * module that passes `config check` never fails when a scraper first names a target.
 *
 * What the file may hold: the engine, a user, a database, DSN parameters, `allow:` and
 * `settings:`. A password only through `passwordFile` (a mounted secret): a module's password
 * would otherwise sit in the one file every scrape-config author reads, and never in `params`.
 */
import { isAbsolute, resolve } from "node:path";
import { parseCidr, type Cidr } from "../discovery/cidr.js";
import { DEFAULT_PORTS, IDENTITY_PARAMS, moduleDsn, type DiscoveryModule } from "../discovery/module.js";
import { normalizeHostName, normalizeIp, type TargetAddress } from "../discovery/target-address.js";
import type { EnvInput } from "./env.js";
import type { FlagInput } from "./flags.js";
import { quote, unknownKey, type Problems, type Where } from "./problems.js";
import { readSecret } from "./secrets.js";
import { TARGET_KEYS, YAML_DEFAULT_KEYS, type TargetKey } from "./settings.js";
import type { Draft } from "./targets.js";
import type { YamlConfig } from "./yaml-file.js";

/** Keys of one module. */
export const MODULE_KEYS = ["engine", "user", "passwordFile", "database", "params", "allow", "settings"] as const;
/** Keys of a module's `allow:`. */
export const ALLOW_KEYS = ["cidrs", "hosts", "ports", "databases"] as const;
/** Keys of a module's `settings:`: those of `defaults:` but `interval` (a discovered target is probed when scraped). */
export const MODULE_SETTING_KEYS: readonly string[] = YAML_DEFAULT_KEYS.filter((k) => k !== "interval");

type Path = Array<string | number>;

const MODULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const DATABASE = /^[A-Za-z0-9_][A-Za-z0-9_.$-]{0,62}$/;
const SQLITE = new Set(["file", "sqlite", "sqlite3"]);

/** Modules read from the file, and each as a target draft for core's and its driver's checks. */
export interface ReadModules {
  /** Modules written in the file, valid or not: with any, a daemon needs no target of its own. */
  declared: number;
  modules: DiscoveryModule[];
  /** One per module, on a stand-in address allowed by the module; for validateTargets and checkDrivers. */
  drafts: Draft[];
}

/**
 * Reads and checks `modules:`, adding every problem to `problems`; modules with a problem are
 * left out (the run stops at `throwIfAny()` anyway).
 *
 * @example
 * ```ts
 * const { modules, drafts } = readModules(file, flags, vars, problems);
 * validateTargets(drafts, flags, vars, problems);
 * ```
 */
export function readModules(file: YamlConfig | undefined, flags: FlagInput, vars: EnvInput, problems: Problems): ReadModules {
  const out: ReadModules = { declared: 0, modules: [], drafts: [] };
  const raw = file?.top.modules;
  if (!file || raw === undefined || raw === null) return out;
  const where = (path: Path): Where => (below = []) => file.where(["modules", ...path, ...below]);
  if (!isRecord(raw)) {
    problems.add(where([])(), "must be a mapping of module names to modules, e.g. { pg: { engine: postgres, allow: { cidrs: [10.0.0.0/8] } } }");
    return out;
  }
  out.declared = Object.keys(raw).length;
  for (const [name, value] of Object.entries(raw)) {
    const read = readModule(name, value, file, (p) => where([name, ...p]), flags, vars, problems);
    if (read) {
      out.modules.push(read.module);
      out.drafts.push(read.draft);
    }
  }
  return out;
}

function readModule(
  name: string,
  value: unknown,
  file: YamlConfig,
  at: (path: Path) => Where,
  flags: FlagInput,
  vars: EnvInput,
  problems: Problems,
): { module: DiscoveryModule; draft: Draft } | undefined {
  const here = (...path: Path): string => at(path)();
  if (!MODULE_NAME.test(name)) problems.add(here(), `${quote(name)} is not a valid module name: use 1-63 letters, digits, "_", "." or "-", starting with a letter or digit`);
  if (!isRecord(value)) {
    problems.add(here(), "must be a mapping: engine, user, passwordFile, database, params, allow, settings");
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if ((MODULE_KEYS as readonly string[]).includes(key)) continue;
    if (key === "password") problems.add(here(key), "a module's password is read from passwordFile (a mounted secret), never written in the file");
    else if (key === "dsn" || key === "dsnFile") problems.add(here(key), "a module builds each target's DSN from ?target=HOST:PORT[/DB]: give engine, user, passwordFile, database and params instead");
    else problems.add(here(key), unknownKey(key, MODULE_KEYS));
  }

  const engine = typeof value.engine === "string" ? value.engine.toLowerCase() : undefined;
  if (engine === undefined || !/^[a-z][a-z0-9+.-]*$/.test(engine)) problems.add(here("engine"), `must be a DSN scheme such as postgres, mysql, mariadb or sqlserver, got ${quote(value.engine)}`);
  else if (SQLITE.has(engine)) problems.add(here("engine"), "SQLite has no address: a module reaches database servers over the network");

  const user = optionalText(value.user, here("user"), 128, problems);
  const database = optionalText(value.database, here("database"), 63, problems);
  if (database !== undefined && !DATABASE.test(database)) problems.add(here("database"), "must be 1-63 letters, digits, _ . $ or -, starting with a letter, digit or _");
  let password: string | undefined;
  if (value.passwordFile !== undefined) {
    if (typeof value.passwordFile !== "string" || value.passwordFile === "") problems.add(here("passwordFile"), "must be the path of a file");
    else password = readSecret(isAbsolute(value.passwordFile) ? value.passwordFile : resolve(file.dir, value.passwordFile), here("passwordFile"), problems);
    if (user === undefined) problems.add(here("passwordFile"), "needs a user to go with the password");
  }
  const params = readParams(value.params, (...p) => here("params", ...p), problems);
  const allow = readAllow(value.allow, (...p) => here("allow", ...p), engine, database, problems);
  const settings = readSettings(value.settings, (...p) => at(["settings", ...p]), file, flags, vars, problems);

  // With other problems the module is still checked as a target (every problem at once); the run
  // stops at throwIfAny() before anything uses it.
  if (engine === undefined || SQLITE.has(engine) || !allow || (allow.cidrs.length === 0 && allow.hosts.length === 0) || allow.ports.length === 0 || !settings) return undefined;
  const module: DiscoveryModule = {
    name,
    engine,
    params,
    allow,
    settings: settings.options,
    ...(user === undefined ? {} : { user }),
    ...(password === undefined ? {} : { password }),
    ...(database === undefined ? {} : { database }),
  };
  // Checked like a target, on an address the module allows: core's schema and the engine's driver.
  let dsn: string;
  try {
    dsn = moduleDsn(module, standIn(allow));
  } catch (err) {
    problems.add(here(), (err as Error).message);
    return undefined;
  }
  const draft: Draft = {
    options: { ...settings.options, dsn, name },
    where: { ...settings.where, dsn: at(["engine"]), name: at([]) },
    self: at([]),
    short: `modules.${name}`,
  };
  return { module, draft };
}

function readParams(value: unknown, at: (...path: Path) => string, problems: Problems): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined || value === null) return out;
  if (!isRecord(value)) {
    problems.add(at(), "must be a mapping of DSN parameters, e.g. { sslmode: verify-full, sslrootcert: /etc/ssl/db-ca.pem }");
    return out;
  }
  for (const [key, v] of Object.entries(value)) {
    if (IDENTITY_PARAMS.has(key.toLowerCase()) || /pass|pwd|secret/i.test(key)) {
      problems.add(at(key), "the address comes from ?target=, the user and password from user and passwordFile: a parameter may not name them");
    } else if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[key] = String(v);
    else problems.add(at(key), `must be a string, number or boolean, got ${quote(v)}`);
  }
  return out;
}

function readAllow(value: unknown, at: (...path: Path) => string, engine: string | undefined, database: string | undefined, problems: Problems): DiscoveryModule["allow"] | undefined {
  if (!isRecord(value)) {
    problems.add(at(), "is required: the hosts (names), cidrs (addresses) and ports the module may reach, e.g. { cidrs: [10.0.0.0/8], ports: [5432] }; anything else is refused");
    return undefined;
  }
  for (const key of Object.keys(value)) if (!(ALLOW_KEYS as readonly string[]).includes(key)) problems.add(at(key), unknownKey(key, ALLOW_KEYS));
  const cidrs: Cidr[] = [];
  for (const [i, text] of list(value.cidrs, at("cidrs"), problems).entries()) {
    const c = typeof text === "string" || typeof text === "number" ? parseCidr(String(text)) : { problem: `${quote(text)} must be a network such as 10.0.0.0/8` };
    if ("problem" in c) problems.add(at("cidrs", i), c.problem);
    else cidrs.push(c);
  }
  const hosts: string[] = [];
  for (const [i, text] of list(value.hosts, at("hosts"), problems).entries()) {
    const name = typeof text === "string" ? normalizeHostName(text) : undefined;
    if (typeof text === "string" && normalizeIp(text.replace(/^\[|\]$/g, ""))) problems.add(at("hosts", i), `${quote(text)} is an address: list addresses under cidrs (one address is a network of one)`);
    else if (name === undefined) {
      const numeric = typeof text === "string" && /^[0-9a-fx.]+$/i.test(text);
      problems.add(at("hosts", i), numeric ? `${quote(text)} is read as an address by resolvers, not as a name: list addresses under cidrs` : `${quote(text)} must be a DNS name, written exactly as targets name it (no wildcards)`);
    }
    else hosts.push(name);
  }
  const written = (v: unknown): boolean => Array.isArray(v) && v.length > 0;
  if (!written(value.cidrs) && !written(value.hosts)) {
    problems.add(at(), "lists no cidrs and no hosts: a module that may reach nothing is refused; one that may reach anything would send its credentials wherever a scraper says");
  }
  const ports: Array<[number, number]> = [];
  if (value.ports === undefined) {
    const port = engine === undefined ? undefined : DEFAULT_PORTS[engine];
    if (port !== undefined) ports.push([port, port]);
    else if (engine !== undefined && !SQLITE.has(engine)) problems.add(at("ports"), `is required for engine ${engine} (no default port known)`);
  }
  for (const [i, p] of list(value.ports, at("ports"), problems).entries()) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(String(p));
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2] ?? m[1]) : NaN;
    if (!(lo >= 1 && hi <= 65535 && lo <= hi) || (typeof p !== "number" && typeof p !== "string")) problems.add(at("ports", i), `${quote(p)} must be a port (5432) or a range ("6432-6439")`);
    else ports.push([lo, hi]);
  }
  const databases: string[] = [];
  for (const [i, d] of list(value.databases, at("databases"), problems).entries()) {
    if (typeof d === "string" && (d === "*" || DATABASE.test(d))) databases.push(d);
    else problems.add(at("databases", i), `${quote(d)} must be a database name, or "*" for any`);
  }
  if (value.databases === undefined && database !== undefined) databases.push(database);
  return { cidrs, hosts, ports, databases };
}

/** The module's per-target settings: flags and variables, else its `settings:`, else `defaults:`. */
function readSettings(
  value: unknown,
  at: (...path: Path) => Where,
  file: YamlConfig,
  flags: FlagInput,
  vars: EnvInput,
  problems: Problems,
): { options: Record<string, unknown>; where: Draft["where"] } | undefined {
  const own: Record<string, unknown> = {};
  if (value !== undefined && value !== null) {
    if (!isRecord(value)) {
      problems.add(at()(), "must be a mapping of target settings, like defaults:");
      return undefined;
    }
    for (const [key, v] of Object.entries(value)) {
      if (MODULE_SETTING_KEYS.includes(key)) own[key] = v;
      else if (key === "interval") problems.add(at(key)(), "a discovered target is probed when Prometheus scrapes it: it has no interval");
      else if (key === "cluster") problems.add(at(key)(), "a discovered target is probed only when scraped: it cannot be a cluster member (configure the members under targets:)");
      else problems.add(at(key)(), unknownKey(key, MODULE_SETTING_KEYS));
    }
  }
  const options: Record<string, unknown> = {};
  const where: Draft["where"] = {};
  for (const key of TARGET_KEYS) {
    if (key === "dsn" || key === "name") continue;
    const layer = flags.target[key] ?? vars.target[key];
    if (layer) [options[key], where[key]] = [layer.value, layer.where];
    else if (own[key] !== undefined) [options[key], where[key]] = [own[key], at(key)];
    else if (file.defaults[key] !== undefined && YAML_DEFAULT_KEYS.includes(key)) [options[key], where[key]] = [file.defaults[key], (below = []) => file.where(["defaults", key, ...below])];
  }
  return { options, where: where as Partial<Record<TargetKey, Where>> };
}

/** An address the module allows, to check its DSN and settings on without connecting. */
function standIn(allow: DiscoveryModule["allow"]): TargetAddress {
  const port = allow.ports[0]![0];
  const cidr = allow.cidrs[0];
  if (allow.hosts[0] !== undefined) return { kind: "name", host: allow.hosts[0], port, label: `${allow.hosts[0]}:${port}` };
  const host = cidr!.address;
  return { kind: cidr!.family, host, port, label: `${cidr!.family === "ipv6" ? `[${host}]` : host}:${port}` };
}

function optionalText(value: unknown, where: string, max: number, problems: Problems): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string" && value.length > 0 && value.length <= max && !/[\u0000-\u001f]/.test(value)) return value;
  problems.add(where, `must be text of 1-${max} characters, got ${quote(value)}`);
  return undefined;
}

function list(value: unknown, where: string, problems: Problems): unknown[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  problems.add(where, `must be a list, got ${quote(value)}`);
  return [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
