// `pnpm bench` / `pnpm bench:quick`: runs the six benchmarks one after the other (each in its
// own process, so one's warm JIT or heap does not favour another), prints every table, and
// rewrites docs/performance.md from the figures of this run. --quick keeps every comparison
// but with fewer runs and shorter windows, to finish in under 3 minutes.
// Usage (after pnpm build): node bench/run.mjs [--quick] [once cycle scale footprint http-abuse memory]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SUMMARY_HEADER } from "./lib/section.mjs";
import { mdTable, textTable } from "./lib/stats.mjs";

const SECTIONS = ["once", "cycle", "scale", "footprint", "http-abuse", "memory"];
const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const chosen = SECTIONS.filter((s) => argv.includes(s));
const sections = chosen.length ? chosen : SECTIONS;
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "dbh-bench-run-"));
let current;
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    // The section cleans up on the same signal (same process group on ^C, forwarded otherwise).
    if (current && sig === "SIGTERM") current.kill(sig);
    if (!current) process.exit(130);
  });
}

const started = Date.now();
const results = [];
const failed = [];
for (const name of sections) {
  const json = join(dir, `${name}.json`);
  const t0 = Date.now();
  process.stderr.write(`\n[bench] ${name}${quick ? " (quick)" : ""}…\n`);
  const code = await new Promise((resolve) => {
    current = spawn(process.execPath, [here(`./${name}.mjs`), ...(quick ? ["--quick"] : []), "--json", json], { stdio: "inherit" });
    current.on("exit", (c, s) => resolve(s ? 128 : c));
  });
  current = undefined;
  if (code !== 0) {
    failed.push(name);
    if (code >= 128) break; // interrupted
    continue;
  }
  results.push({ name, seconds: (Date.now() - t0) / 1000, ...JSON.parse(readFileSync(json, "utf8")) });
}
rmSync(dir, { recursive: true, force: true });
const total = (Date.now() - started) / 1000;
const summary = results.flatMap((r) => r.summary);
console.log(`\n== Summary (${quick ? "quick" : "full"} run, ${total.toFixed(0)} s) ==\n${textTable(SUMMARY_HEADER, summary)}`);

if (failed.length === 0 && sections.length === SECTIONS.length) {
  writeFileSync(here("../docs/performance.md"), render());
  console.log("\ndocs/performance.md rewritten");
} else {
  console.log(`\ndocs/performance.md left as it was: ${failed.length ? `failed: ${failed.join(", ")}` : "only some sections ran"}`);
  process.exitCode = failed.length ? 1 : 0;
}

function render() {
  const notes = readFileSync(here("./NOTES.md"), "utf8");
  const cpu = cpus();
  return `# Performance

<!-- Written by \`pnpm bench\` (bench/run.mjs) from the figures of one run; do not edit by hand.
     The analysis below the figures comes from bench/NOTES.md. -->

Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${quick ? "quick" : "full"} run (\`pnpm bench${quick ? ":quick" : ""}\`, ${total.toFixed(0)} s),
Node ${process.version}, ${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown CPU"}), shared with other work: absolute
times vary from run to run; each ratio compares figures measured side by side in this run.

## Summary

${mdTable(SUMMARY_HEADER, summary)}

${results
  .map(
    (r) => `## ${r.title}

${mdTable(r.header, r.rows)}
${(r.notes ?? []).map((n) => `\n- ${n}`).join("")}
`,
  )
  .join("\n")}
${notes}`;
}
