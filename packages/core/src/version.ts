import { createRequire } from "node:module";

// Read at run time so a changesets version bump needs no code change; src/ and dist/ are both
// one level below package.json.
const pkg = createRequire(import.meta.url)("../package.json") as { version: string };

/** Version of `@alfred/db-health-core`. */
export const CORE_VERSION: string = pkg.version;
