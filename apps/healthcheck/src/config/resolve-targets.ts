/**
 * The targets' part of resolving the configuration (resolve.ts): the discovery modules, each
 * target drafted from its sources, checked by core, its driver found, and the plan filled in.
 * A module of its own so that the modes without targets (`status`, `--help`, `--version`) never
 * load it, nor core's target checks and the driver loader it brings.
 */
import { formatDuration, planTargets, type DriverDefinition, type ResolvedTarget, type TargetCheck } from "@alfred/db-health-core";
import type { CliPlan } from "../cli-plan.js";
import { checkDrivers } from "./drivers.js";
import type { EnvInput } from "./env.js";
import type { FlagInput } from "./flags.js";
import { readModules } from "./modules.js";
import type { Problems } from "./problems.js";
import { buildTargets, toTargetOptions, type Draft } from "./targets.js";
import { validateTargets } from "./validate.js";
import type { YamlConfig } from "./yaml-file.js";

/** What {@link resolveTargets} reads: the sources as resolve.ts has read them. */
export interface TargetSources {
  flags: FlagInput;
  vars: EnvInput;
  file: YamlConfig | "unreadable" | undefined;
  env: NodeJS.ProcessEnv;
  problems: Problems;
  /** Import the drivers and let each check its DSN (resolve.ts' `checkDrivers` option). */
  checkDrivers: boolean;
}

/**
 * Fills in `plan.targets`, `plan.targetOptions`, `plan.modules` and `plan.argument`, adding
 * every problem found to `problems` (thrown by the caller, with the rest).
 *
 * @example
 * ```ts
 * await resolveTargets(plan, { flags, vars, file, env, problems, checkDrivers: true });
 * ```
 */
export async function resolveTargets(plan: CliPlan, { flags, vars, file, env, problems, checkDrivers: withDrivers }: TargetSources): Promise<void> {
  const loaded = file === "unreadable" ? undefined : file;
  const modules = readModules(loaded, flags, vars, problems);
  // A daemon may probe discovered targets only; --once and the wrapper need a target of their own.
  const discoveryOnly = modules.declared > 0 && (flags.mode === "daemon" || flags.mode === "config-check") && flags.command.length === 0;
  const hint = modules.declared > 0 ? "modules: are probed only through /probe?module=…&target=… of a daemon that wraps no command" : undefined;
  // Each stage is synchronous work that grows with the targets (about half a second each for
  // 10,000): between them, a stop signal that arrived meanwhile gets its turn (startup-stop.ts).
  await turn();
  const drafts = buildTargets(flags, vars, file, env, problems, { allowed: discoveryOnly, ...(hint ? { hint } : {}) });
  await turn();
  const checks = [validateTargets(drafts, flags, vars, problems), modules.drafts.length > 0 ? validateTargets(modules.drafts, flags, vars, problems) : undefined] as const;
  await turn();
  const all = [...drafts, ...modules.drafts];
  const found = withDrivers ? await checkDrivers(all.map((draft, i) => ({ draft, dsn: dsnOf(checks, drafts, i) })), plan.plugins, problems) : undefined;
  problems.throwIfAny();
  warnSlowChecks(checks[0], drafts, problems);
  if (found) {
    plan.targets = planOf(checks[0], drafts, found.slice(0, drafts.length));
    planOf(checks[1], modules.drafts, found.slice(drafts.length)).forEach((target, i) => (modules.modules[i]!.target = target));
  }
  plan.targetOptions = drafts.map(toTargetOptions);
  plan.modules = modules.modules;
  if (flags.argument !== undefined) plan.argument = flags.argument;
}

/** The parsed DSN of the `i`th of the targets followed by the modules' stand-ins. */
function dsnOf(checks: readonly [TargetCheck | undefined, TargetCheck | undefined], drafts: readonly Draft[], i: number) {
  return i < drafts.length ? checks[0]?.targets[i]?.dsn : checks[1]?.targets[i - drafts.length]?.dsn;
}

/** The checked targets with their drivers, resolved (no problem is left by now). */
function planOf(check: TargetCheck | undefined, drafts: readonly Draft[], definitions: ReadonlyArray<DriverDefinition | undefined>): ResolvedTarget[] {
  if (!check || drafts.length === 0) return [];
  return planTargets(check, definitions as DriverDefinition[]);
}

// One pass of the event loop: signal handlers and I/O callbacks run before what follows.
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Warns about targets whose custom checks may together take as long as the interval (the sum of
 * their timeouts): a slow server then keeps the target's cycles running back to back. Valid
 * still — a check ends at its own timeout, and one the server timed out ends the cycle's checks.
 */
function warnSlowChecks(check: TargetCheck | undefined, drafts: readonly Draft[], problems: Problems): void {
  check?.targets.forEach(({ settings }, i) => {
    const total = settings?.checks.reduce((sum, c) => sum + c.timeout, 0) ?? 0;
    if (!settings || settings.checks.length === 0 || total < settings.interval) return;
    const name = drafts[i]?.options.name;
    problems.warn(
      `${drafts[i]?.short ?? `targets[${i}]`}${typeof name === "string" ? ` "${name}"` : ""}`,
      `its ${settings.checks.length} check(s) may take up to ${formatDuration(total)} together (the sum of their timeouts), not less than its interval ${formatDuration(settings.interval)}: on a slow server its cycles run back to back; shorten the timeouts or lengthen the interval`,
    );
  });
}
