/**
 * Helpers for the config tests: a temp directory, files in it, and resolveCli wrappers that
 * return the plan or the error text. Under __fixtures__ so that the build leaves it out.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDbHealthError } from "@alfred/db-health-core";
import type { CliPlan } from "../../cli-plan.js";
import { resolveCli } from "../resolve.js";

/**
 * A fresh temp directory with a `write(name, text)` helper and a `cleanup()`.
 *
 * @example
 * ```ts
 * const tmp = tempDir(); const file = tmp.write("hc.yaml", "targets: []"); tmp.cleanup();
 * ```
 */
export function tempDir(): { dir: string; write: (name: string, text: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "dbh-config-"));
  return {
    dir,
    write: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Config tests check the configuration alone: which drivers are installed is drivers.test.ts's business. */
const OPTIONS = { writeOut: () => undefined, checkDrivers: false };

/**
 * resolveCli that must succeed.
 *
 * @example
 * ```ts
 * const plan = await resolveOk(["--dsn", ":memory:"]);
 * ```
 */
export async function resolveOk(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliPlan> {
  return resolveCli(argv, env, "9.9.9", OPTIONS);
}

/**
 * resolveCli that must fail with a config error; returns its message.
 *
 * @example
 * ```ts
 * expect(await resolveError(["--interval", "5x"])).toContain("--interval");
 * ```
 */
export async function resolveError(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    await resolveCli(argv, env, "9.9.9", OPTIONS);
  } catch (err) {
    if (isDbHealthError(err) && err.kind === "config") return err.message;
    throw err;
  }
  throw new Error(`resolveCli(${JSON.stringify(argv)}) succeeded but should have failed`);
}
