#!/usr/bin/env node
// dist/cli.cjs, the `healthcheck` command (written by scripts/bundle.mjs from this file): compiles
// the bundle's chunks with the V8 code cache the build made beside each (dist/chunks/*.cjs.cache),
// then runs the CLI (dist/chunks/cli.cjs).
//
// A chunk compiled from its cache skips parsing and compiling what the build's runs already
// compiled: about 13 ms of a `--once` (zod and core's target checks, the probe). V8 checks each
// cache (its version, its flags, the source) and compiles from source when it does not fit, e.g.
// under another Node.js than the build's: nothing changes then but the time. Not used with
// --enable-source-maps: Node maps stack traces only for code it compiles itself. A chunk that
// import()s (plugins, drivers that are not bundled, yaml) has no cache: on Node 20 a script
// compiled from a code cache loses the callback that import() needs.
//
// V8 checks a cache's header, not its payload: a cache damaged inside (a bad disk, a copy cut
// and patched) could crash the process with no word. So each cache starts with the SHA-256 of its
// chunk's source and of the payload, and a cache that does not match is not used.
//
// With DB_HEALTH_BUILD_CODE_CACHE set to this file's directory (the build's training runs, and
// nothing a user would set by chance), each chunk's cache is written when the process exits, with
// everything that run compiled.
"use strict";
const training = process.env.DB_HEALTH_BUILD_CODE_CACHE === __dirname;

// `status [URL]`, `--version` and `--help` alone, as a Docker HEALTHCHECK or a person types them,
// are answered by dist/chunks/quick.cjs (src/quick.ts), a small bundle compiled from source: no
// configuration resolver, no commander, no code cache and so no node:crypto or node:vm to check
// and load one. It returns false, having done nothing, for any command line the full CLI must
// read (a flag, a DB_HEALTH_* variable, a URL that is not one), which then runs as below. The
// build's training runs always take the full path: they make its code cache.
const QUICK = new Set(["status", "--version", "-V", "--help", "-h"]);
if (training || !QUICK.has(process.argv[2]) || !require("./chunks/quick.cjs").runQuick()) full();

/** The full CLI: the chunks compiled with their code cache, then chunks/cli.cjs. */
function full() {
  const { createHash } = require("node:crypto");
  const { readFileSync, writeFileSync } = require("node:fs");
  const Module = require("node:module");
  const { dirname, join, sep } = require("node:path");
  const { Script } = require("node:vm");

  const chunks = join(__dirname, "chunks") + sep;
  const main = require.main;
  const DIGEST = 32;
  const digest = (source, payload) => createHash("sha256").update(source).update(payload).digest();
  if (training) delete process.env.DB_HEALTH_BUILD_CODE_CACHE;

  if (!process.sourceMapsEnabled) {
    const compile = Module.prototype._compile;
    const compiled = [];
    Module.prototype._compile = function (content, filename) {
      if (!filename.startsWith(chunks) || !filename.endsWith(".cjs")) return compile.call(this, content, filename);
      let cachedData;
      try {
        const file = readFileSync(`${filename}.cache`);
        const payload = file.subarray(DIGEST);
        if (file.length > DIGEST && digest(content, payload).equals(file.subarray(0, DIGEST))) cachedData = payload;
      } catch {
        // no cache for this chunk
      }
      if (cachedData === undefined && !training) return compile.call(this, content, filename);
      const script = new Script(Module.wrap(content), { filename, cachedData });
      if (training) compiled.push([filename, content, script]);
      const fn = script.runInThisContext({ displayErrors: true });
      const mod = this;
      const require = (id) => mod.require(id);
      require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
      require.main = main;
      require.cache = Module._cache;
      return fn.call(mod.exports, mod.exports, require, mod, filename, dirname(filename));
    };
    if (training) {
      process.on("exit", () => {
        for (const [file, source, script] of compiled) {
          const payload = script.createCachedData();
          writeFileSync(`${file}.cache`, Buffer.concat([digest(source, payload), payload]));
        }
      });
    }
  }

  require("./chunks/cli.cjs");
}
