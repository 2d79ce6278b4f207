// One-shot cost of `healthcheck --once` on SQLite against `node -e 0`, measured side by side
// (interleaved runs, so machine noise hits both alike). Prints medians and their ratio.
// Usage: node bench/once-sqlite.mjs [runs]   (after pnpm build)
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const runs = Number(process.argv[2] ?? 15);
const cli = fileURLToPath(new URL("../apps/healthcheck/dist/cli.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "dbh-bench-"));
const commands = {
  "node -e 0": [process.execPath, ["-e", "0"]],
  "healthcheck --once (sqlite)": [process.execPath, [cli, "--once", "--dsn", `file:${join(dir, "bench.db")}`]],
};
const time = ([cmd, args]) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: "ignore" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
for (const c of Object.values(commands)) time(c); // warm-up: file cache, the database file
const samples = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
for (let i = 0; i < runs; i++) for (const [name, c] of Object.entries(commands)) samples[name].push(time(c));
rmSync(dir, { recursive: true, force: true });
const base = median(samples["node -e 0"]);
console.log(`runs: ${runs} each, interleaved, after one warm-up run`);
for (const [name, xs] of Object.entries(samples)) {
  const m = median(xs);
  console.log(`${name.padEnd(30)} median ${m.toFixed(1).padStart(7)} ms  min ${Math.min(...xs).toFixed(1).padStart(7)} ms  ratio ${(m / base).toFixed(2)}x`);
}
