// V8's memory reducer at 1,000 targets, side by side: two daemons of the built CLI, one started
// as `node cli.cjs`, one as `node --no-memory-reducer cli.cjs`, each with the same kind of
// targets (its own SQLite files, its own PostgreSQL and MariaDB databases), scraped at the same
// moments the way Prometheus scrapes (each /probe?target= and /metrics once every 15 s, gzip).
// CPU % (utime + stime from /proc) and peak RSS of each, per window, measured over the same
// seconds. Not part of `pnpm bench` (docs/performance.md): its figures are in bench/NOTES.md.
// The windows and targets are bench/side-by-side.mjs's.
// Usage (after pnpm build): node bench/memory-reducer.mjs [--quick] [--rounds N]
import { CLI, sideBySide } from "./side-by-side.mjs";
import { runAsScript } from "./lib/section.mjs";

export const run = ({ quick, argv = [] }) =>
  sideBySide({
    quick,
    argv,
    name: "memory-reducer",
    title: "V8's memory reducer, side by side",
    variants: [
      { label: "default", cli: CLI, nodeFlags: [] },
      { label: "--no-memory-reducer", cli: CLI, nodeFlags: ["--no-memory-reducer"] },
    ],
  });

runAsScript(import.meta.url, run);
