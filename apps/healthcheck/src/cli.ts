#!/usr/bin/env node
import { main } from "./main.js";

const controller = new AbortController();
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.once(sig, () => controller.abort(new Error(`received ${sig}`)));
}

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  shutdown: controller.signal,
});
process.exitCode = code;
