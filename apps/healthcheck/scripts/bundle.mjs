// Run by `pnpm build` after tsc and build-info.mjs: bundles the `healthcheck` command into
// dist/cli.js with rolldown, so that start-up reads one file instead of resolving and linking a
// hundred ES modules. What only some modes need (the daemon and its HTTP server, YAML, target
// resolution, the probe itself, each built-in driver) is split into dist/chunks/ and imported
// when a mode needs it. The library entry (dist/index.js and its types) stays tsc's output.
//
// Why rolldown: it is already in the lockfile (vitest 4 runs on vite 8, which bundles with it),
// so the bundle costs no new native binary; it reads TypeScript itself, keeps dynamic imports as
// separate chunks and writes source maps that point at src/*.ts. (esbuild would do as well, as a
// new dependency; tsdown adds declaration bundling, which the library entry does not need.)
//
// Kept external, resolved at run time from node_modules like any dependency:
// - pino, prom-client, yaml, bcryptjs: dependencies of this package, loaded only by the daemon
//   or for a YAML file; prom-client in particular must stay one module instance, shared with
//   core's lazy require of it;
// - the mssql driver (not a dependency at build time; its client alone takes ~0.5 s to load);
// - every database client (pg, mysql2, better-sqlite3, ...): see driverClients() below.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const revision = (() => {
  try {
    return JSON.parse(readFileSync(join(dist, "build-info.json"), "utf8")).revision;
  } catch {
    return "unknown";
  }
})();

/** Runtime dependencies of this package that stay external (see above). */
const EXTERNAL = ["pino", "prom-client", "yaml", "bcryptjs", "@alfred/db-health-driver-mssql"];

/** `createRequire(import.meta.url)("../package.json")`, as core and the drivers read their own version. */
const OWN_PACKAGE_JSON = /createRequire\(import\.meta\.url\)\("\.\.\/package\.json"\)/g;

/**
 * Core and the drivers read their version from "../package.json" relative to their own file:
 * inside the bundle that path would name this package's file. Each gets its own package's name
 * and version as a constant instead (the bundled code is that version).
 */
function ownVersions() {
  const require = createRequire(import.meta.url);
  return {
    name: "db-health:own-versions",
    transform: {
      filter: { id: /[\\/](packages[\\/][^\\/]+|@alfred[\\/][^\\/]+)[\\/]dist[\\/].*\.js$/, code: "../package.json" },
      handler(code, id) {
        const file = join(dirname(id), "..", "package.json");
        const { name, version } = JSON.parse(readFileSync(require.resolve(file), "utf8"));
        return { code: code.replace(OWN_PACKAGE_JSON, JSON.stringify({ name, version })), map: null };
      },
    },
  };
}

const output = await build({
  input: { cli: join(root, "src/cli.ts"), "chunks/bcrypt-worker": join(root, "src/http/bcrypt-worker.ts") },
  platform: "node",
  tsconfig: join(root, "tsconfig.json"),
  external: (id) => EXTERNAL.some((e) => id === e || id.startsWith(`${e}/`)) || /^@alfred\/db-health-driver-/.test(id),
  transform: { define: { __BUILD_INFO__: JSON.stringify({ version: pkg.version, revision }) } },
  plugins: [ownVersions()],
  output: {
    dir: dist,
    format: "esm",
    entryFileNames: "[name].js",
    chunkFileNames: "chunks/[name]-[hash].js",
    sourcemap: true,
    // The maps name src/*.ts (and core's dist/*.js) relative to dist/; the sources themselves are
    // not embedded: the published package has no src/, and stack traces need only names and lines.
    sourcemapExcludeSources: true,
  },
  write: true,
});

// Checks that keep the bundle honest: what runs at start-up is one file, and code that finds
// files relative to itself finds them.
const chunks = output.output.filter((o) => o.type === "chunk");
const entry = chunks.find((c) => c.fileName === "cli.js");
const problems = [];
if (!entry) problems.push("no dist/cli.js");
for (const c of chunks) {
  if (c.code.includes("../package.json")) problems.push(`${c.fileName} still reads a package.json relative to itself`);
  if (c.moduleIds.some((m) => m.endsWith("bcrypt-verifier.ts")) && !c.fileName.startsWith("chunks/")) {
    problems.push(`${c.fileName} holds bcrypt-verifier.ts: its worker is found beside it, in dist/chunks/`);
  }
}
if (problems.length > 0) {
  console.error(`bundle: ${problems.join("\n  ")}`);
  process.exit(1);
}
const kb = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(`bundle: dist/cli.js ${kb(entry.code.length)} (static imports: ${entry.imports.filter((i) => !i.startsWith("node:")).join(", ") || "none"}); ${chunks.length - 1} lazy chunks`);
