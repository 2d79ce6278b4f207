/**
 * Target validation by core's `resolveTargetConfigs` (the one schema every entry point shares),
 * with each of its problems re-labelled with the source of the offending value: core says
 * `targets[0].readTimeout`, the user needs to hear `--read-timeout` or the YAML line.
 */
import { isDbHealthError, resolveTargetConfigs } from "@alfred/db-health-core";
import type { FlagInput } from "./flags.js";
import type { EnvInput } from "./env.js";
import type { Problems } from "./problems.js";
import { TARGET_KEYS, type TargetKey } from "./settings.js";
import { toTargetOptions, type Draft } from "./targets.js";

const LINE = /^targets\[(\d+)\]((?:\.[A-Za-z_$][\w$]*|\[[^\]]*\])*): (.*)$/;

/**
 * Validates the drafts with core and adds every problem, labelled by source, to `problems`.
 * Without any target, the flag and variable overrides are still checked on a stand-in target,
 * so that a bad `--interval` is reported together with "no database to probe".
 *
 * @example
 * ```ts
 * validateTargets(drafts, flags, vars, problems);
 * problems.throwIfAny();
 * ```
 */
export function validateTargets(drafts: readonly Draft[], flags: FlagInput, vars: EnvInput, problems: Problems): void {
  let checked: readonly Draft[] = drafts;
  if (drafts.length === 0) {
    const standIn: Draft = { options: { dsn: ":memory:" }, where: {}, self: () => "", short: "" };
    for (const key of TARGET_KEYS) {
      const layer = flags.target[key] ?? vars.target[key];
      if (!layer) continue;
      standIn.options[key] = layer.value;
      standIn.where[key] = layer.where;
    }
    if (Object.keys(standIn.where).length === 0) return;
    checked = [standIn];
  }
  try {
    resolveTargetConfigs(checked.map(toTargetOptions));
  } catch (err) {
    if (!isDbHealthError(err) || err.kind !== "config") throw err;
    for (const line of err.message.split("\n")) addLine(line, checked, drafts.length === 0, problems);
  }
}

function addLine(line: string, drafts: readonly Draft[], standIn: boolean, problems: Problems): void {
  const m = LINE.exec(line);
  const draft = m ? drafts[Number(m[1])] : undefined;
  if (!m || !draft) {
    problems.add(undefined, line);
    return;
  }
  const segments = [...m[2]!.matchAll(/\.([A-Za-z_$][\w$]*)|\[([^\]]*)\]/g)].map((s) => s[1] ?? s[2]!);
  const [key, ...below] = segments;
  if (key === "dsn" && draft.dsnUnreadable) return;
  // A rule between two fields (pruneAfter vs. interval) trips on a default as often as on the
  // value given: then the field the user did set, named in the message, is the one to blame.
  const mentioned = (Object.keys(draft.where) as TargetKey[]).find((k) => new RegExp(`\\b${k}\\b`).test(m[3]!));
  const where = (key === undefined ? undefined : draft.where[key as TargetKey]) ?? (mentioned && draft.where[mentioned]);
  // The stand-in's own fields are made up: only problems involving an override are the user's.
  if (standIn && !where) return;
  const own = key !== undefined && draft.where[key as TargetKey] !== undefined;
  const label = where ? where(own ? below : []) : draft.self(segments);
  // Core names other targets by index; name them as this source does (`--dsn #1`).
  let message = m[3]!.replace(/\btargets\[(\d+)\]/g, (whole, i: string) => drafts[Number(i)]?.short || whole);
  if (where && !own && key !== undefined) message = `${segments.join(".")} ${message}`;
  problems.add(label, message);
}
