/** promtool for the metrics tests: found once, a lint helper, and the rule for a missing one. */
import { spawnSync } from "node:child_process";
import { it } from "vitest";

export const PROMTOOL = process.env.PROMTOOL ?? "promtool";
export const havePromtool = spawnSync(PROMTOOL, ["--version"]).status === 0;

if (!havePromtool && !process.env.CI) {
  console.warn(`skipping the promtool checks: ${PROMTOOL} is not installed (apt-get install prometheus); CI installs it and fails without it`);
}

/**
 * `promtool check metrics` on an exposition: its exit status and findings.
 *
 * @example
 * ```ts
 * expect(lintMetrics(await m.render())).toEqual({ status: 0, output: "" });
 * ```
 */
export function lintMetrics(text: string): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, ["check", "metrics"], { input: text });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/** A test that needs promtool: skipped without it on a developer's machine (said above), run in CI, where a missing promtool fails it. */
export function withPromtool(name: string, fn: () => Promise<void>): void {
  it.skipIf(!havePromtool && !process.env.CI)(name, fn);
}
