/**
 * Rows of the fault matrix. Each fault test records what it observed (status, time to detect,
 * reason, what was left behind); the rows go to `.test-results/fault-matrix/<engine>.json`, and
 * the global teardown renders docs/fault-matrix.md from them. Nothing in the document is typed
 * by hand.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const RESULTS_DIR = fileURLToPath(new URL("../../.test-results/fault-matrix/", import.meta.url));
const REPORTS_DIR = fileURLToPath(new URL("../../.test-results/", import.meta.url));

/** writes a report file under .test-results/ (which `.ci/run` empties before the tests) */
export function writeReport(name: string, content: string): void {
  mkdirSync(REPORTS_DIR, { recursive: true });
  writeFileSync(join(REPORTS_DIR, name), content);
}

/** Where the secret sweep leaves its section of docs/fault-matrix.md for render.ts. */
export const SWEEP_SECTION = join(RESULTS_DIR, "secret-sweep.md");

/**
 * Leaves the secret sweep's section of the fault-matrix document for the renderer.
 *
 * @example
 * ```ts
 * writeSweepSection("## Secret sweep\n\n…");
 * ```
 */
export function writeSweepSection(markdown: string): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(SWEEP_SECTION, markdown);
}

export interface MatrixRow {
  engine: string;
  fault: string;
  /** what a correct probe reports, e.g. "down" or "degraded, then down, then up" */
  expected: string;
  /** what it reported; "n/a" for a fault that cannot apply to the engine */
  observed: string;
  /** milliseconds from the fault (or the start of the cycle) to the report; undefined when n/a */
  detectMs?: number;
  /** the reason text of the report, already redacted by the product */
  reason?: string;
  /** what stayed open after close: "nothing" or a list such as "1 fd, 1 server session" */
  leftBehind: string;
  /** extra context (e.g. recovery time, exit code); for n/a rows, why */
  note?: string;
  pass: boolean;
}

export interface Matrix {
  add(row: Omit<MatrixRow, "engine" | "pass"> & { pass?: boolean }): MatrixRow;
  /** write the rows recorded so far (call from afterAll) */
  flush(): void;
}

/** rows of one engine, flushed to `<RESULTS_DIR>/<engine>.json` */
export function createMatrix(engine: string, meta: Record<string, string> = {}): Matrix {
  const rows: MatrixRow[] = [];
  return {
    add(row) {
      const full: MatrixRow = { engine, ...row, pass: row.pass ?? (row.observed === "n/a" || (row.observed === row.expected && row.leftBehind === "nothing")) };
      rows.push(full);
      return full;
    },
    flush() {
      mkdirSync(RESULTS_DIR, { recursive: true });
      writeFileSync(join(RESULTS_DIR, `${engine}.json`), `${JSON.stringify({ engine, meta, rows }, null, 2)}\n`);
    },
  };
}
