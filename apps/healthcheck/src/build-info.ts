/** The exporter's identity: the labels of `db_health_check_build_info` and the landing page's header. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/** What the exporter says it is. */
export interface BuildInfo {
  /** This package's version. */
  version: string;
  /** The git commit the package was built from, or "unknown" (built outside a git checkout, or run from sources). */
  revision: string;
  /** The Node.js running it (`process.version`), as Go exporters report `goversion`. */
  nodeversion: string;
}

let cached: BuildInfo | undefined;

// The bundled CLI (scripts/bundle.mjs) carries its version and revision as this constant, so it
// reads no file for them; the library entry (tsc's dist/) and the tests read the files.
declare const __BUILD_INFO__: { version: string; revision: string } | undefined;

/**
 * Reads the version from package.json and the revision from `build-info.json`, which the build
 * writes beside the compiled code (scripts/build-info.mjs), or from the bundle, which carries
 * both. Read once; never throws.
 *
 * @example
 * ```ts
 * buildInfo(); // { version: "1.0.0", revision: "3f2c1ab…", nodeversion: "v20.20.2" }
 * ```
 */
export function buildInfo(): BuildInfo {
  cached ??= {
    ...(typeof __BUILD_INFO__ !== "undefined" ? __BUILD_INFO__ : { version: (createRequire(import.meta.url)("../package.json") as { version: string }).version, revision: readRevision() }),
    nodeversion: process.version,
  };
  return cached;
}

function readRevision(): string {
  try {
    const { revision } = JSON.parse(readFileSync(new URL("./build-info.json", import.meta.url), "utf8")) as { revision?: unknown };
    // Only what the build writes: a commit id or "unknown". Anything else is not ours to print.
    return typeof revision === "string" && /^(?:[0-9a-f]{40,64}|unknown)$/.test(revision) ? revision : "unknown";
  } catch {
    // Run from sources (tests), or a dist/ made by tsc alone.
    return "unknown";
  }
}
