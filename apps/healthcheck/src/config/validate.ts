/**
 * Target validation by core's `checkTargetConfigs` (the one schema every entry point shares),
 * with each of its problems labelled with the source of the offending value: core gives the
 * path `[0, "readTimeout"]`, the user needs to hear `--read-timeout` or the YAML line.
 */
import { checkTargetConfigs, type ConfigProblem, type TargetCheck } from "@alfred/db-health-core";
import type { FlagInput } from "./flags.js";
import type { EnvInput } from "./env.js";
import type { Problems } from "./problems.js";
import { TARGET_KEYS, type TargetKey } from "./settings.js";
import { toTargetOptions, type Draft } from "./targets.js";

/**
 * Checks the drafts with core, adds every problem, labelled by source, to `problems` (and the
 * DSNs' secrets, to hide them in every message), and returns core's check: each target's parsed
 * DSN and settings, for the drivers and the plan. Without any target, the flag and variable
 * overrides are still checked on a stand-in target, so that a bad `--interval` is reported
 * together with "no database to probe"; nothing is returned then.
 *
 * @example
 * ```ts
 * const check = validateTargets(drafts, flags, vars, problems);
 * problems.throwIfAny();
 * ```
 */
export function validateTargets(drafts: readonly Draft[], flags: FlagInput, vars: EnvInput, problems: Problems): TargetCheck | undefined {
  let checked: readonly Draft[] = drafts;
  if (drafts.length === 0) {
    const standIn: Draft = { options: { dsn: ":memory:" }, where: {}, self: () => "", short: "" };
    for (const key of TARGET_KEYS) {
      const layer = flags.target[key] ?? vars.target[key];
      if (!layer) continue;
      standIn.options[key] = layer.value;
      standIn.where[key] = layer.where;
    }
    if (Object.keys(standIn.where).length === 0) return undefined;
    checked = [standIn];
  }
  // Core names another target (the first holder of a duplicate name) as this source does: `--dsn #1`.
  const check = checkTargetConfigs(checked.map(toTargetOptions), { nameOf: (i) => checked[i]?.short || `targets[${i}]` });
  for (const problem of check.problems) addProblem(problem, checked, drafts.length === 0, problems);
  if (drafts.length === 0) return undefined;
  problems.addSecrets(check.secrets);
  // A DSN from a channel meant for secrets that does not parse may be a password put there by mistake.
  drafts.forEach((d, i) => {
    if (d.dsnFromSecret && typeof d.options.dsn === "string" && !check.targets[i]?.dsn) problems.addSecrets([d.options.dsn]);
  });
  return check;
}

function addProblem({ path, message, related }: ConfigProblem, drafts: readonly Draft[], standIn: boolean, problems: Problems): void {
  const [index, ...segments] = path;
  const draft = typeof index === "number" ? drafts[index] : undefined;
  if (index === undefined || !draft) {
    problems.add(undefined, message);
    return;
  }
  // List indexes below a key (`checks[1].max`) stay numbers, for the YAML path and its line.
  const [first, ...below] = segments;
  const key = first === undefined ? undefined : String(first);
  if (key === "dsn" && draft.dsnUnreadable) return;
  // A rule between two fields (pruneAfter vs. interval) trips on a default as often as on the
  // value given: then the other field, the one the user did set, is the one to blame.
  const set = related?.find((k) => draft.where[k as TargetKey] !== undefined) as TargetKey | undefined;
  const where = (key === undefined ? undefined : draft.where[key as TargetKey]) ?? (set && draft.where[set]);
  // The stand-in's own fields are made up: only problems involving an override are the user's.
  if (standIn && !where) return;
  const own = key !== undefined && draft.where[key as TargetKey] !== undefined;
  const label = where ? where(own ? below : []) : draft.self(segments);
  problems.add(label, where && !own && key !== undefined ? `${segments.join(".")} ${message}` : message);
}
