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
// With DB_HEALTH_BUILD_CODE_CACHE=1 (the build's training runs), each chunk's cache is written
// when the process exits, with everything that run compiled.
"use strict";
const { readFileSync, writeFileSync } = require("node:fs");
const Module = require("node:module");
const { dirname, join, sep } = require("node:path");
const { Script } = require("node:vm");

const chunks = join(__dirname, "chunks") + sep;
const main = require.main;
const training = process.env.DB_HEALTH_BUILD_CODE_CACHE === "1";
if (training) delete process.env.DB_HEALTH_BUILD_CODE_CACHE;

if (!process.sourceMapsEnabled) {
  const compile = Module.prototype._compile;
  const compiled = [];
  Module.prototype._compile = function (content, filename) {
    if (!filename.startsWith(chunks) || !filename.endsWith(".cjs")) return compile.call(this, content, filename);
    let cachedData;
    try {
      cachedData = readFileSync(`${filename}.cache`);
    } catch {
      if (!training) return compile.call(this, content, filename);
    }
    const script = new Script(Module.wrap(content), { filename, cachedData });
    if (training) compiled.push([filename, script]);
    const fn = script.runInThisContext({ displayErrors: true });
    const mod = this;
    const require = (id) => mod.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
    require.main = main;
    require.cache = Module._cache;
    return fn.call(mod.exports, mod.exports, require, mod, filename, dirname(filename));
  };
  if (training) process.on("exit", () => compiled.forEach(([file, script]) => writeFileSync(`${file}.cache`, script.createCachedData())));
}

require("./chunks/cli.cjs");
