/**
 * Building the target list from flags, variables, the YAML file and the image variables, and
 * remembering where each setting came from so that core's problems can be reported against
 * the flag, variable or YAML line the user has to change.
 */
import { isAbsolute, resolve } from "node:path";
import type { TargetOptions } from "@alfred/db-health-core";
import type { EnvInput } from "./env.js";
import type { FlagInput } from "./flags.js";
import { imageDefaultTarget } from "./image-defaults.js";
import { formatCount, MAX_TARGETS } from "./limits.js";
import { fixed, type Problems, type Where } from "./problems.js";
import { readSecret, splicePassword } from "./secrets.js";
import { TARGET_KEYS, YAML_DEFAULT_KEYS, type TargetKey } from "./settings.js";
import type { YamlConfig } from "./yaml-file.js";

/** One target being assembled: its options and, for each, where the value came from. */
export interface Draft {
  options: Record<string, unknown>;
  where: Partial<Record<TargetKey, Where>>;
  /** The target as a whole (for a missing dsn, a duplicate name). */
  self: Where;
  /** Short name for messages that refer to this target from another one. */
  short: string;
  /** The DSN could not be read (its problem is reported): core's "dsn is required" would be noise. */
  dsnUnreadable?: boolean;
  /**
   * The DSN came from a channel meant for secrets (DB_HEALTH_DSN, DB_HEALTH_DSN_FILE, dsnFile):
   * when it does not parse it may be a password put there by mistake, so it is never shown.
   */
  dsnFromSecret?: boolean;
}

/** Message when nothing anywhere names a database. */
export const NO_TARGET = "no database to probe: pass --dsn, set DB_HEALTH_DSN or write targets in --config";

/**
 * The targets, from the first source that names any (`--dsn`, `DB_HEALTH_DSN(_FILE)`, the
 * file's `targets:`, the image variables), each with flags > env > the target's YAML keys >
 * the file's `defaults:` applied.
 *
 * @example
 * ```ts
 * const drafts = buildTargets(flags, vars, file, process.env, problems);
 * drafts[0]?.options.dsn;
 * ```
 */
export function buildTargets(
  flags: FlagInput,
  vars: EnvInput,
  file: YamlConfig | "unreadable" | undefined,
  env: NodeJS.ProcessEnv,
  problems: Problems,
  /** Set when no target is fine (a daemon that only probes discovered targets): the reason, else the problem says why one is needed. */
  none?: { allowed: boolean; hint?: string },
): Draft[] {
  const drafts = baseTargets(flags, vars, file, env, problems, none);
  for (const draft of drafts) {
    for (const key of TARGET_KEYS) {
      const layer = flags.target[key] ?? vars.target[key];
      if (layer) {
        draft.options[key] = layer.value;
        draft.where[key] = layer.where;
      } else if (draft.options[key] === undefined && file && file !== "unreadable" && file.defaults[key] !== undefined && YAML_DEFAULT_KEYS.includes(key)) {
        draft.options[key] = file.defaults[key];
        draft.where[key] = (below = []) => file.where(["defaults", key, ...below]);
      }
    }
  }
  // Each DSN's secrets are added to `problems` when core checks it (validate.ts), which parses it once.
  return drafts;
}

function baseTargets(flags: FlagInput, vars: EnvInput, file: YamlConfig | "unreadable" | undefined, env: NodeJS.ProcessEnv, problems: Problems, none?: { allowed: boolean; hint?: string }): Draft[] {
  const { dsns, names } = flags;
  const numbered = (flag: string, i: number, n: number): string => (n > 1 ? `${flag} #${i + 1}` : flag);
  // Before any per-target work (the YAML file's targets are counted before it is even parsed).
  if (dsns.length > MAX_TARGETS) {
    problems.add("--dsn", `${formatCount(dsns.length)} targets, more than the ${formatCount(MAX_TARGETS)} one healthcheck process probes: split them over several processes`);
    return [];
  }
  if (dsns.length > 0) {
    if (names.length > dsns.length) problems.add("--name", `${names.length} names for ${dsns.length} --dsn; each --name names the --dsn at the same position`);
    return dsns.map((dsn, i) => {
      const draft = single(dsn, fixed(numbered("--dsn", i, dsns.length)));
      if (names[i] !== undefined) named(draft, names[i], fixed(numbered("--name", i, names.length)));
      return draft;
    });
  }
  let one: Draft | undefined;
  if (vars.dsnGiven && !vars.dsn) return []; // DB_HEALTH_DSN_FILE unreadable: already a problem
  if (vars.dsn) one = { ...single(vars.dsn.value, vars.dsn.where), dsnFromSecret: true };
  // A file that could not be read may hold the targets: "no database" would mislead.
  else if (file === "unreadable") return [];
  else if (file && file.targets.length > 0) {
    if (names.length > 0) problems.add("--name", "names --dsn targets only; name the file's targets with name:");
    return file.targets.map((raw, i) => fromYaml(raw, i, file, problems));
  } else {
    const image = imageDefaultTarget(env, problems);
    // null: image variables are set but unusable, and a problem already says why.
    if (image === null) return [];
    if (image) one = single(image.dsn, fixed(image.where));
  }
  if (!one) {
    if (!none?.allowed) problems.add(undefined, none?.hint ? `${NO_TARGET} (${none.hint})` : NO_TARGET);
    return [];
  }
  if (names.length > 1) problems.add("--name", `${names.length} names for one target`);
  if (names[0] !== undefined) named(one, names[0], fixed("--name"));
  return [one];
}

function single(dsn: string, where: Where): Draft {
  return { options: { dsn }, where: { dsn: where }, self: where, short: where() };
}

function named(draft: Draft, name: string, where: Where): void {
  draft.options.name = name;
  draft.where.name = where;
}

/** A YAML target: dsnFile read, passwordFile spliced in, other keys as written. */
function fromYaml(raw: Record<string, unknown>, i: number, file: YamlConfig, problems: Problems): Draft {
  const at = (key?: string): Where => (below = []) => file.where(key === undefined ? ["targets", i, ...below] : ["targets", i, key, ...below]);
  const { dsnFile, passwordFile, ...options } = raw;
  const draft: Draft = { options, where: {}, self: at(), short: `targets[${i}]` };
  for (const key of Object.keys(options)) draft.where[key as TargetKey] = at(key);
  const path = (key: string, value: unknown): string | undefined => {
    if (typeof value === "string" && value !== "") return isAbsolute(value) ? value : resolve(file.dir, value);
    problems.add(at(key)(), "must be the path of a file");
    return undefined;
  };
  if (dsnFile !== undefined) {
    const p = path("dsnFile", dsnFile);
    const dsn = p === undefined ? undefined : readSecret(p, at("dsnFile")(), problems, false);
    if (dsn !== undefined) {
      options.dsn = dsn;
      draft.where.dsn = at("dsnFile");
      draft.dsnFromSecret = true;
    } else draft.dsnUnreadable = true;
  }
  if (passwordFile !== undefined) {
    const p = path("passwordFile", passwordFile);
    const password = p === undefined ? undefined : readSecret(p, at("passwordFile")(), problems);
    if (password !== undefined && typeof options.dsn === "string") {
      const spliced = splicePassword(options.dsn, password);
      if ("dsn" in spliced) options.dsn = spliced.dsn;
      else problems.add(at("passwordFile")(), spliced.problem);
    } else if (password !== undefined && options.dsn === undefined && !draft.dsnUnreadable) {
      problems.add(at("passwordFile")(), "needs a dsn (or dsnFile) to put the password into");
    }
  }
  return draft;
}

/**
 * The options as core takes them, without keys left undefined.
 *
 * @example
 * ```ts
 * toTargetOptions({ options: { dsn: ":memory:", name: undefined }, where: {}, self: () => "", short: "" }); // { dsn: ":memory:" }
 * ```
 */
export function toTargetOptions(draft: Draft): TargetOptions {
  return Object.fromEntries(Object.entries(draft.options).filter(([, v]) => v !== undefined)) as unknown as TargetOptions;
}
