/**
 * The driver side of validation: is a driver installed for each DSN, do the plugins load, and
 * does each driver accept its DSN (`sslmode=bogus`, SQLite `mode=rwx`…). Part of resolving the
 * configuration so that `config check` catches these too and they are listed with every other
 * problem, before anything connects. Only the drivers the targets need are imported.
 */
import { describeDsn, driverRegistry, isDbHealthError, parseDsn } from "@alfred/db-health-core";
import { loadDrivers } from "../driver-loader.js";
import type { Problems } from "./problems.js";
import type { Draft } from "./targets.js";

/**
 * Adds a problem for every plugin that fails to load, every DSN without a driver and every DSN
 * its driver rejects, each prefixed with the source of that DSN.
 *
 * @example
 * ```ts
 * await checkDrivers(drafts, plan.plugins, problems);
 * ```
 */
export async function checkDrivers(drafts: readonly Draft[], plugins: readonly string[], problems: Problems): Promise<void> {
  // DSNs that are not strings are reported by the target schema already.
  const targets = drafts.filter((d) => typeof d.options.dsn === "string");
  const dsns = targets.map((d) => d.options.dsn as string);
  const labelFor = (line: string): string | undefined => {
    const owner = targets.find((d) => line.includes(`"${describeDsn(d.options.dsn as string)}"`));
    return owner?.where.dsn?.() ?? owner?.self();
  };
  try {
    await loadDrivers(dsns, plugins);
  } catch (err) {
    if (!isDbHealthError(err) || err.kind !== "config") throw err;
    for (const line of err.message.split("\n")) problems.add(labelFor(line), line);
  }
  // From the registry rather than loadDrivers' answer, which is all-or-nothing: a missing driver
  // for one DSN must not hide what another driver says about its own DSN.
  targets.forEach((draft, i) => {
    let parsed;
    try {
      parsed = parseDsn(dsns[i]!);
    } catch {
      return; // the target schema reports it, with its source
    }
    try {
      driverRegistry.get(parsed.scheme)?.validate?.(parsed);
    } catch (err) {
      if (!isDbHealthError(err) || err.kind !== "config") throw err;
      for (const line of err.message.split("\n")) problems.add(draft.where.dsn?.() ?? draft.self(["dsn"]), line);
    }
  });
}
