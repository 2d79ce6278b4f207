// Sums vitest's JSON reports of every workspace package into the one line CI reads.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dirs = [
  ...["packages", "apps", "examples", "test"]
    .map((top) => join(root, top))
    .filter((base) => existsSync(base))
    .flatMap((base) => readdirSync(base, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(base, e.name))),
  join(root, "docker"),
];

let passed = 0;
let failed = 0;
let skipped = 0;
// What failed, printed just above the summary line: CI keeps only the tail of the output.
const failures = [];
const firstLines = (messages) =>
  (messages ?? []).join("\n").split("\n").filter((l) => l.trim() !== "").slice(0, 12).map((l) => `    ${l.slice(0, 400)}`);
for (const dir of dirs) {
  const manifest = join(dir, "package.json");
  if (!existsSync(manifest) || !JSON.parse(readFileSync(manifest, "utf8")).scripts?.test) continue;
  const report = join(dir, ".test-results", "vitest.json");
  if (!existsSync(report)) {
    console.log(`no test report from ${relative(root, dir)}: counted as one failure`);
    failed += 1;
    continue;
  }
  const r = JSON.parse(readFileSync(report, "utf8"));
  passed += r.numPassedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A file that failed to load has no failed test but failed all the same: count it once.
  const brokenFiles = (r.testResults ?? []).filter(
    (f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed"),
  ).length;
  failed += (r.numFailedTests ?? 0) + brokenFiles;
  for (const f of r.testResults ?? []) {
    const file = relative(root, f.name ?? "");
    for (const a of f.assertionResults ?? []) {
      if (a.status === "failed") failures.push([`FAILED ${file} > ${a.fullName ?? a.title}`, ...firstLines(a.failureMessages)]);
    }
    if (f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed")) {
      failures.push([`FAILED ${file} (file or hook)`, ...firstLines([f.message ?? ""])]);
    }
  }
}
for (const lines of failures) console.log(lines.join("\n"));
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
