/**
 * `@alfred/healthcheck` as a library: the CLI's entry point, for embedding and tests.
 *
 * @example
 * ```ts
 * import { main } from "@alfred/healthcheck";
 * const code = await main(["--dsn", "file:app.db", "--once"], { stdout: process.stdout, stderr: process.stderr, env: process.env, shutdown: new AbortController().signal });
 * ```
 */
export { main, type Io } from "./main.js";
export { BUILTIN_DRIVERS, loadDrivers } from "./driver-loader.js";
export { EXIT, exitCodeFor, formatJson, formatText } from "./report.js";
