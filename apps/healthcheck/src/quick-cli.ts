import { quickRun } from "./quick.js";
import { runCli } from "./run-cli.js";

/**
 * Entry of dist/chunks/quick.cjs: runs the command line when the quick path answers it
 * (quick.ts) and returns true; returns false, having done nothing, for the full CLI to run it.
 *
 * @example
 * ```js
 * if (!require("./chunks/quick.cjs").runQuick()) require("./chunks/cli.cjs");
 * ```
 */
export function runQuick(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): boolean {
  const run = quickRun(argv, env);
  if (!run) return false;
  runCli(run);
  return true;
}
