/**
 * The driver side of validation: is a driver installed for each DSN, do the plugins load, and
 * does each driver accept its DSN (`sslmode=bogus`, SQLite `mode=rwx`…). Part of resolving the
 * configuration so that `config check` catches these too and they are listed with every other
 * problem, before anything connects. Only the drivers the targets need are imported, and each
 * target's driver is looked up once: the definitions returned go into the plan.
 */
import { isDbHealthError, type DriverDefinition, type ParsedDsn } from "@alfred/db-health-core";
import { findDrivers } from "../driver-loader.js";
import type { Problems } from "./problems.js";
import type { Draft } from "./targets.js";

/** A target to find the driver of: its draft (for the labels) and its DSN as core parsed it, if it parsed. */
export interface DriverCheck {
  draft: Draft;
  dsn: ParsedDsn | undefined;
}

/**
 * Adds a problem for every plugin that fails to load, every DSN without a driver and every DSN
 * its driver rejects, each prefixed with the source of that DSN, and returns each target's
 * driver (aligned with `targets`; `undefined` where there is none, or the DSN did not parse).
 *
 * @example
 * ```ts
 * const definitions = await checkDrivers(drafts.map((draft, i) => ({ draft, dsn: check.targets[i]?.dsn })), plan.plugins, problems);
 * ```
 */
export async function checkDrivers(targets: readonly DriverCheck[], plugins: readonly string[], problems: Problems): Promise<Array<DriverDefinition | undefined>> {
  // A DSN that did not parse is reported by the target schema already, with its source.
  const parsed = targets.flatMap((t, i) => (t.dsn ? [{ i, draft: t.draft, dsn: t.draft.options.dsn as string, parsed: t.dsn }] : []));
  const found = await findDrivers(parsed, plugins);
  // One line per message, labelled with the first target it is about.
  const said = new Set<string>();
  for (const { target, message } of found.problems) {
    if (said.has(message)) continue;
    said.add(message);
    const draft = target === undefined ? undefined : parsed[target]!.draft;
    problems.add(draft ? (draft.where.dsn?.() ?? draft.self()) : undefined, message);
  }
  const definitions: Array<DriverDefinition | undefined> = targets.map(() => undefined);
  parsed.forEach(({ i, draft, parsed: dsn }, n) => {
    const definition = found.definitions[n];
    definitions[i] = definition;
    try {
      definition?.validate?.(dsn);
    } catch (err) {
      if (!isDbHealthError(err) || err.kind !== "config") throw err;
      for (const line of err.message.split("\n")) problems.add(draft.where.dsn?.() ?? draft.self(["dsn"]), line);
    }
  });
  return definitions;
}
