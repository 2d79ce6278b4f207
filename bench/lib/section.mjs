// Runs one benchmark section as a script: `node bench/<section>.mjs [--quick] [--json FILE]`.
// A section's `run({ quick })` returns { title, header, rows, summary, notes }; `summary` rows
// are [measure, value, baseline, ratio, target, verdict] and feed the table in docs/performance.md.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { guarded } from "./cleanup.mjs";
import { textTable } from "./stats.mjs";

export const SUMMARY_HEADER = ["measure", "value", "baseline (same run)", "ratio", "target", "verdict"];

/** Verdict of a figure against an upper bound: "met", "MISSED" or "n/a". */
export const verdict = (value, limit) => (!Number.isFinite(value) ? "n/a" : value <= limit ? "met" : "MISSED");

export function printSection(r) {
  console.log(`\n== ${r.title} ==`);
  console.log(textTable(r.header, r.rows));
  for (const note of r.notes ?? []) console.log(`  note: ${note}`);
  if (r.summary?.length) console.log(`\n${textTable(SUMMARY_HEADER, r.summary)}`);
}

/** When `moduleUrl` is the script node was started with, runs the section and prints it. */
export function runAsScript(moduleUrl, run) {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  const argv = process.argv.slice(2);
  const json = argv.includes("--json") ? argv[argv.indexOf("--json") + 1] : undefined;
  void guarded(async () => {
    const result = await run({ quick: argv.includes("--quick"), argv });
    printSection(result);
    if (json) writeFileSync(json, JSON.stringify(result));
  });
}
