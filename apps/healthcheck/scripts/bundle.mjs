// Run by `pnpm build` after tsc and build-info.mjs: bundles the `healthcheck` command with rolldown
// into dist/chunks/ (CommonJS), so that start-up reads one file instead of resolving and linking
// about 150 ES modules. Start-up is chunks/cli.cjs; what only some modes need (commander, target
// resolution, the probe, each built-in driver, YAML, the daemon and its HTTP server) is a
// chunk loaded when a mode needs it. dist/cli.cjs (the package's bin, scripts/cli-entry.cjs)
// compiles the chunks with the V8 code cache made here, then runs chunks/cli.cjs. The library
// entry (dist/index.js and its types) stays tsc's output.
//
// Why rolldown: it is in the lockfile already (vitest 4 runs on vite 8, which bundles with it),
// so the bundle costs no new native binary; it reads the TypeScript sources itself, keeps each
// dynamic import a chunk, groups chunks as told and writes source maps to src/*.ts. (esbuild
// would do as well, as a new dependency; tsdown adds declaration bundling, which the library
// entry does not need.)
//
// Why CommonJS: on Node 20 an ES module entry starts the ES module loader (resolution, linking,
// a facade per built-in module): ~8 ms of a `--version` that must stay near `node -e 0`. The
// chunks load each other with require(); only plugins, drivers that are not bundled and yaml are
// import()ed. dist/cli.js stays, a one-line ES module that loads dist/cli.cjs.
//
// Kept external, resolved at run time from node_modules like any dependency:
// - pino, prom-client, yaml, bcryptjs: dependencies of this package, loaded only by the daemon or
//   for a YAML file; prom-client must stay one module instance, shared with core's lazy require;
// - built-in drivers the workspace does not install (mssql) and every database client: see
//   bundledDrivers() below.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "rolldown";
import { parseAst } from "rolldown/parseAst";

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
const EXTERNAL = ["pino", "prom-client", "yaml", "bcryptjs"];

/** The built-in drivers installed here at build time (the workspace's), carried by the bundle. */
const DRIVERS = Object.keys(pkg.devDependencies ?? {})
  .filter((name) => name.startsWith("@alfred/db-health-driver-"))
  .map((name) => {
    const dir = realpathSync(dirname(createRequire(join(root, "package.json")).resolve(`${name}/package.json`)));
    return { name, version: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version, dir };
  });

/**
 * The bundle's copy of each built-in driver (src/bundled-drivers.ts says why and when it is used).
 * The map in src/bundled-drivers.ts is filled in; each driver's own dependencies (its database
 * client) stay outside the bundle and are required from the installed driver package's
 * directory, exactly what importing the package would load.
 */
function bundledDrivers() {
  const PREFIX = "\0driver-dependency:";
  const owner = (file) => DRIVERS.find((d) => file.startsWith(`${d.dir}${sep}`));
  return {
    name: "db-health:bundled-drivers",
    resolveId(source, importer) {
      const driver = importer && owner(importer);
      if (!driver || /^[./\0]/.test(source) || isBuiltin(source) || source === "@alfred/db-health-core") return null;
      return { id: `${PREFIX}${driver.name}\0${source}` };
    },
    load(id) {
      if (id.startsWith(PREFIX)) {
        const [driver, dependency] = id.slice(PREFIX.length).split("\0");
        // pg decides when it loads whether it runs in a Cloudflare Worker: on Node 20, which has no
        // `navigator`, by building a `Response`, which loads Node's fetch (undici): ~15 ms of every
        // `--once` against PostgreSQL, for an answer that is always "no" here. While a client
        // loads, and only then, a `navigator` says Node.js (Node 21+ has its own, left alone).
        return [
          `import { createRequire } from "node:module";`,
          `const fromDriver = createRequire(createRequire(import.meta.url).resolve(${JSON.stringify(`${driver}/package.json`)}));`,
          `const bare = !("navigator" in globalThis);`,
          `if (bare) Object.defineProperty(globalThis, "navigator", { value: { userAgent: "Node.js" }, configurable: true, writable: true });`,
          `let dependency;`,
          `try { dependency = fromDriver(${JSON.stringify(dependency)}); } finally { if (bare) delete globalThis.navigator; }`,
          `export default dependency;`,
        ].join("\n");
      }
      if (id === join(root, "src", "bundled-drivers.ts")) {
        const entries = DRIVERS.map((d) => `  ${JSON.stringify(d.name)}: { version: ${JSON.stringify(d.version)}, load: () => import(${JSON.stringify(d.name)}) },`);
        return `export const BUNDLED_DRIVERS = {\n${entries.join("\n")}\n};\n`;
      }
      return null;
    },
  };
}

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

rmSync(join(dist, "chunks"), { recursive: true, force: true });
const output = await build({
  // commander is an entry of its own: flags.ts requires it (synchronously) only for a command line
  // with options, as __COMMANDER_CHUNK__.
  input: { "chunks/cli": join(root, "src/cli.ts"), "chunks/commander": "commander" },
  platform: "node",
  tsconfig: join(root, "tsconfig.json"),
  external: (id) => EXTERNAL.some((e) => id === e || id.startsWith(`${e}/`)) || (/^@alfred\/db-health-driver-/.test(id) && !DRIVERS.some((d) => d.name === id)),
  transform: { define: { __BUILD_INFO__: JSON.stringify({ version: pkg.version, revision }), __COMMANDER_CHUNK__: JSON.stringify("./commander.cjs") } },
  plugins: [ownVersions(), bundledDrivers()],
  // Only the modules of core's barrel (index.js) that something imports enter the graph.
  experimental: { lazyBarrel: true },
  preserveEntrySignatures: "allow-extension",
  output: {
    dir: dist,
    format: "cjs",
    entryFileNames: "[name].cjs",
    // A bundled driver's chunk is named after it, not after its entry file (dist/index.js).
    chunkFileNames: (chunk) => {
      const driver = DRIVERS.find((d) => chunk.facadeModuleId?.startsWith(`${d.dir}${sep}`));
      return `chunks/${driver ? driver.name.replace("@alfred/db-health-", "") : "[name]"}-[hash].cjs`;
    },
    sourcemap: true,
    // The maps name src/*.ts (and core's dist/*.js) relative to dist/; the sources themselves are
    // not embedded: the published package has no src/, and stack traces need only names and lines.
    sourcemapExcludeSources: true,
    // What start-up loads (the modules cli.ts imports statically, `$initial`) goes into the entry,
    // instead of the handful of small chunks that sharing them with the lazy parts would make:
    // every file costs a resolve, a read and a compile. Their dependencies are not pulled in with
    // them: commander, needed only for a command line with options, stays out.
    codeSplitting: {
      groups: [
        { name: "startup", tags: ["$initial"], test: (id) => !/[\\/](zod|commander)[\\/]/.test(id), priority: 10, includeDependenciesRecursively: false },
      ],
    },
  },
  write: true,
});

// The quick path (src/quick.ts): `status [URL]`, `--version` and `--help` alone, a file of its own
// that shares no chunk with the full CLI (a shared chunk would be one more file for both to load).
// `--help` is commander's own text for buildProgram(), made here from tsc's dist/config/flags.js
// (the same sources), so that the quick path prints it without loading commander;
// src/quick.test.ts checks the two are the same.
const helpText = await (async () => {
  const { buildProgram } = await import(pathToFileURL(join(dist, "config", "flags.js")).href);
  let text = "";
  buildProgram(pkg.version, (chunk) => void (text += chunk)).outputHelp();
  return text;
})();
/**
 * The quick path's two built-in modules that Node loads only for it: node:module (createRequire,
 * which in a CommonJS file is the file's own require) and node:os (the signal numbers, read only
 * when a stop signal comes). ~1.5 ms of every `status` otherwise.
 */
function quickBuiltins() {
  const SOURCES = {
    "node:module": "export const createRequire = () => require;",
    "node:os": `export const constants = { get signals() { return require("node:os").constants.signals; } };`,
  };
  return {
    name: "db-health:quick-builtins",
    resolveId(source, importer) {
      // The modules' own require("node:os") is the real one.
      if (importer?.startsWith("\0quick:")) return null;
      return source in SOURCES ? { id: `\0quick:${source}` } : null;
    },
    load(id) {
      return id.startsWith("\0quick:") ? SOURCES[id.slice("\0quick:".length)] : null;
    },
  };
}
const quick = await build({
  input: join(root, "src/quick-cli.ts"),
  platform: "node",
  tsconfig: join(root, "tsconfig.json"),
  external: (id) => EXTERNAL.some((e) => id === e || id.startsWith(`${e}/`)),
  transform: { define: { __BUILD_INFO__: JSON.stringify({ version: pkg.version, revision }), __HELP_TEXT__: JSON.stringify(helpText) } },
  plugins: [ownVersions(), quickBuiltins()],
  experimental: { lazyBarrel: true },
  output: { file: join(dist, "chunks/quick.cjs"), format: "cjs", sourcemap: true, sourcemapExcludeSources: true },
});

// The bcrypt worker (a thread of its own) is found beside the chunk that starts it, as
// dist/chunks/bcrypt-worker.js: an ES module, like tsc's dist/http/bcrypt-worker.js.
await build({
  input: join(root, "src/http/bcrypt-worker.ts"),
  platform: "node",
  tsconfig: join(root, "tsconfig.json"),
  external: ["bcryptjs"],
  output: { file: join(dist, "chunks/bcrypt-worker.js"), format: "esm", sourcemap: true, sourcemapExcludeSources: true },
});

// dist/cli.cjs, the command: compiles the chunks with their code cache, then runs chunks/cli.cjs.
writeFileSync(join(dist, "cli.cjs"), readFileSync(join(root, "scripts/cli-entry.cjs")));
chmodSync(join(dist, "cli.cjs"), 0o755);
// dist/cli.js, for whoever runs the file by that name: it loads the bundle.
writeFileSync(join(dist, "cli.js"), `#!/usr/bin/env node\n// The healthcheck command is dist/cli.cjs (scripts/bundle.mjs); this name runs it too.\nimport "./cli.cjs";\n`, { mode: 0o755 });

// Checks that keep the bundle honest: start-up loads no zod (core no longer uses it at runtime), and code that finds files relative
// to itself finds them.
const chunks = output.output.filter((o) => o.type === "chunk");
const byName = new Map(chunks.map((c) => [c.fileName, c]));
const entry = byName.get("chunks/cli.cjs");
const problems = [];
const loadedAtStart = new Set();
const walk = (name) => {
  const c = byName.get(name);
  if (!c || loadedAtStart.has(c)) return;
  loadedAtStart.add(c);
  for (const i of c.imports) walk(i);
};
walk("chunks/cli.cjs");
if (!entry) problems.push("no dist/chunks/cli.cjs");
if (!entry?.moduleIds.some((m) => m.endsWith(`${sep}config${sep}flags.ts`))) problems.push("flags.ts is not in chunks/cli.cjs, beside chunks/commander.cjs");
if (loadedAtStart.has(byName.get("chunks/commander.cjs"))) problems.push("start-up loads commander");
for (const c of loadedAtStart) if (c.moduleIds.some((m) => /[\\/]zod[\\/]/.test(m))) problems.push(`${c.fileName} is loaded at start-up and holds zod`);
for (const c of quick.output.filter((o) => o.type === "chunk")) {
  const heavy = c.moduleIds.filter((m) => /[\\/](zod|commander|yaml)[\\/]|[\\/]config[\\/]flags\.ts$/.test(m));
  if (heavy.length > 0) problems.push(`chunks/quick.cjs holds ${heavy.join(", ")}`);
}
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

// The code cache: the CLI run as a user would, a few ways, each run compiling from the caches the
// runs before it wrote and writing them back with what it compiled (scripts/cli-entry.cjs). The
// runs need no database: --once probes a SQLite file. Nothing of the builder's environment that
// could change what runs (DB_HEALTH_*, NODE_OPTIONS, which V8 checks each cache against) is passed.
const work = mkdtempSync(join(tmpdir(), "dbh-code-cache-"));
try {
  const env = { PATH: process.env.PATH ?? "", HOME: work, DB_HEALTH_BUILD_CODE_CACHE: realpathSync(dist) };
  for (const args of [["--version"], ["--help"], ["status", "http://127.0.0.1:9/readyz"], ["--once", "--dsn", `file:${join(work, "train.db")}?mode=rwc`]]) {
    const r = spawnSync(process.execPath, [join(dist, "cli.cjs"), ...args], { cwd: work, env, encoding: "utf8", timeout: 60_000 });
    if (r.status === null || (args[0] === "--once" && r.status !== 0)) problems.push(`code cache run ${args.join(" ")}: ${r.status ?? r.signal} ${r.stderr}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
// On Node 20 a script compiled from a code cache loses its import() callback
// (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING): chunks that import() at run time keep no cache.
const importsAtRunTime = (node) =>
  node !== null && typeof node === "object" && (node.type === "ImportExpression" || Object.values(node).some(importsAtRunTime));
for (const c of chunks) if (c.fileName.endsWith(".cjs") && importsAtRunTime(parseAst(c.code))) rmSync(join(dist, `${c.fileName}.cache`), { force: true });
const cached = readdirSync(join(dist, "chunks")).filter((f) => f.endsWith(".cjs.cache"));
if (!cached.includes("cli.cjs.cache")) problems.push("no code cache for chunks/cli.cjs");
if (problems.length > 0) {
  console.error(`bundle: ${problems.join("\n  ")}`);
  process.exit(1);
}
const kb = (n) => `${(n / 1024).toFixed(0)} KiB`;
const startSize = [...loadedAtStart].reduce((n, c) => n + c.code.length, 0);
console.log(`bundle: dist/cli.cjs; quick path ${kb(quick.output[0].code.length)}; start-up loads ${loadedAtStart.size} chunk(s), ${kb(startSize)}; ${chunks.length - loadedAtStart.size} chunk(s) loaded when needed; code cache for ${cached.length} chunk(s)`);
