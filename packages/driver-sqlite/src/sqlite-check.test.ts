import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { createDriver, type CustomCheckOptions, type Driver } from "@alfred/db-health-core";
import { waitFor } from "@alfred/db-health-testkit";
import { sqliteDriver } from "./definition.js";

const dir = mkdtempSync(join(tmpdir(), "dbh-sqlite-check-"));
const path = join(dir, "jobs.db");
const drivers: Driver[] = [];
const make = (checks: CustomCheckOptions[], dsn = `file:${path}`): Driver => {
  const d = createDriver({ dsn, maxRetries: 0, probeId: "test", checks }, { definition: sqliteDriver });
  drivers.push(d);
  return d;
};
const jobs = (): Array<{ id: number; state: string }> => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare("SELECT id, state FROM jobs ORDER BY id").all() as Array<{ id: number; state: string }>;
  } finally {
    db.close();
  }
};

beforeAll(() => {
  const db = new Database(path);
  db.exec("CREATE TABLE jobs (id INTEGER PRIMARY KEY, state TEXT NOT NULL)");
  const insert = db.prepare("INSERT INTO jobs (state) VALUES (?)");
  for (const state of ["queued", "queued", "queued", "done"]) insert.run(state);
  db.close();
});
afterAll(async () => {
  for (const d of drivers) await d.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("sqlite custom checks", () => {
  it("runs a passing check and reports its value", async () => {
    const r = await make([{ name: "backlog", query: "SELECT count(*) FROM jobs WHERE state = 'queued'", max: 10 }]).probe();
    expect(r.status, r.reason).toBe("up");
    expect(r.checks).toEqual([{ name: "backlog", ok: true, value: 3, ms: expect.any(Number) }]);
  });

  it("degrades on a value over its bound, and takes a trailing semicolon", async () => {
    const r = await make([{ name: "backlog", query: "SELECT count(*) FROM jobs WHERE state = 'queued';", max: 2 }]).probe();
    expect(r.status).toBe("degraded");
    expect(r.reason).toBe("check backlog: 3 > max 2");
    expect(r.checks?.[0]).toMatchObject({ ok: false, value: 3, error: "3 > max 2" });
  });

  it("refuses a writing statement before it runs: the table is unchanged", async () => {
    const before = jobs();
    const writes = [
      "DELETE FROM jobs",
      "UPDATE jobs SET state = 'done'",
      "INSERT INTO jobs (state) VALUES ('x') RETURNING id",
      "WITH q AS (SELECT 1) DELETE FROM jobs RETURNING id",
      "DROP TABLE jobs",
      "PRAGMA user_version = 7",
    ];
    const r = await make(writes.map((query, i) => ({ name: `w${i}`, query }))).probe();
    expect(r.status).toBe("degraded");
    for (const c of r.checks!) {
      expect(c.ok).toBe(false);
      expect(c.error).toBe("check refused: the statement writes (or may write) to the database; a check may only read (SELECT …)");
    }
    expect(r.problems[0]).toBe("check w0: check refused: the statement writes (or may write) to the database; a check may only read (SELECT …)");
    expect(jobs()).toEqual(before);
    const db = new Database(path, { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(0);
    db.close();
  });

  it("refuses two statements, and a statement without rows", async () => {
    const before = jobs();
    const r = await make([
      { name: "two", query: "SELECT 1; DELETE FROM jobs" },
      { name: "begin", query: "BEGIN" },
      { name: "attach", query: `ATTACH '${join(dir, "other.db")}' AS other` },
      { name: "comment", query: "-- nothing" },
    ]).probe();
    expect(r.status).toBe("degraded");
    expect(r.checks?.map((c) => c.error)).toEqual([
      "check refused: the query holds more than one statement; a check is one statement",
      "check refused: the statement returns no rows; a check is a query whose first column is a number (SELECT …)",
      "check refused: the statement returns no rows; a check is a query whose first column is a number (SELECT …)",
      "check refused: the query holds no statement (only comments?)",
    ]);
    expect(jobs()).toEqual(before);
  });

  it("leaves the connection writable: the health row is written in the next cycle, query_only is off again", async () => {
    const d = make([{ name: "backlog", query: "SELECT count(*) FROM jobs" }]);
    expect((await d.probe()).status).toBe("up");
    const r = await d.probe();
    expect(r.status, r.reason).toBe("up");
    expect(r.phases.write?.ok).toBe(true);
  });

  it("fails a check on a SQL error, no row or a non-numeric value, with SQLite's message", async () => {
    const r = await make([
      { name: "missing", query: "SELECT count(*) FROM nope" },
      { name: "none", query: "SELECT id FROM jobs WHERE state = 'nope'" },
      { name: "text", query: "SELECT state FROM jobs ORDER BY id" },
      { name: "numeric", query: "SELECT '42'" },
    ]).probe();
    expect(r.checks?.map((c) => [c.name, c.ok, c.value, c.error])).toEqual([
      ["missing", false, undefined, "no such table: nope (SQLITE_ERROR)"],
      ["none", false, undefined, "query returned no row"],
      ["text", false, undefined, "query returned a string of 6 characters, not a number"],
      ["numeric", true, 42, undefined],
    ]);
  });

  it("runs checks on a file opened mode=ro", async () => {
    const r = await make([{ name: "jobs", query: "SELECT count(*) FROM jobs", min: 1 }], `file:${path}?mode=ro`).probe();
    expect(r.status, r.reason).toBe("up");
    expect(r.checks?.[0]?.value).toBe(4);
  });
});

// A statement that runs for seconds (about 3 s here): longer than its check timeout many times over.
/** This process's check processes still alive (from /proc: children whose command line runs the check host). */
function checkProcesses(): number[] {
  const mine: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) !== process.pid || fields[0] === "Z") continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("hostMain")) mine.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return mine;
}

const SLOW = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000000) SELECT count(*) FROM c";

describe("sqlite custom checks in a worker thread", () => {
  it("a slow check times out as a timeout while the event loop keeps running, and the next check works (a new worker)", async () => {
    // Slow while the flag table has a row: the same check, on the same target, then fast again.
    const flag = new Database(path);
    flag.exec("CREATE TABLE IF NOT EXISTS slow_flag (on_ INTEGER); INSERT INTO slow_flag VALUES (1)");
    const d = make([
      { name: "sometimes_slow", query: `SELECT CASE WHEN (SELECT count(*) FROM slow_flag) > 0 THEN (${SLOW}) ELSE 7 END`, timeout: "300ms" },
      { name: "after", query: "SELECT 1" },
    ]);
    // On the main thread the statement held every timer until it returned (a daemon's /metrics
    // took 7–11 s); in the worker, the interval keeps firing during the check.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    let r;
    try {
      r = await d.probe();
    } finally {
      clearInterval(ticker);
    }
    expect(r.status).toBe("degraded");
    expect(r.checks).toEqual([{ name: "sometimes_slow", ok: false, ms: expect.any(Number), error: "timed out after 300ms" }]);
    // A blocked thread fires an interval once after the block; the worker leaves it free.
    expect(ticks, "interval ticks during a 300 ms check").toBeGreaterThanOrEqual(5);
    flag.exec("DELETE FROM slow_flag");
    flag.close();
    // The statement that would not stop ended with its check process: the next cycle runs the
    // same check again, in a new one, and it is fast now.
    const next = await d.probe();
    expect(next.status, next.reason).toBe("up");
    expect(next.checks?.map((c) => [c.name, c.ok, c.value])).toEqual([
      ["sometimes_slow", true, 7],
      ["after", true, 1],
    ]);
    expect(jobs()).toHaveLength(4);
  });

  it("gives values as the main thread does: a BLOB is a Buffer, NULL and text as such, a big integer a number", async () => {
    const r = await make([
      { name: "blob", query: "SELECT x'0102'" },
      { name: "null", query: "SELECT NULL" },
      { name: "real", query: "SELECT 2.5" },
      { name: "big", query: "SELECT 9007199254740993" },
      { name: "count", query: "SELECT count(*) FROM jobs" },
    ]).probe();
    expect(r.checks?.map((c) => [c.name, c.ok, c.value, c.error])).toEqual([
      ["blob", false, undefined, "query returned bytes, not a number"],
      ["null", false, undefined, "query returned NULL, not a number"],
      ["real", true, 2.5, undefined],
      ["big", true, 9007199254740992, undefined],
      ["count", true, 4, undefined],
    ]);
  });

  it("ends a statement that does not stop with its check process: no thread goes on running it", async () => {
    const d = make([
      { name: "slow", query: SLOW, timeout: "200ms" },
      { name: "fast", query: "SELECT count(*) FROM jobs" },
    ]);
    // Seen while the check runs: the statement runs in a process of its own, a child of this one.
    const during = new Promise<number[]>((r) => setTimeout(() => r(checkProcesses()), 120));
    const first = await d.probe();
    expect(first.checks?.map((c) => [c.name, c.error])).toEqual([["slow", "timed out after 200ms"]]);
    expect(await during).toHaveLength(1);
    // Nothing else waits on that process: it is killed at once (well before the statement's ~3 s).
    for (const until = Date.now() + 10_000; checkProcesses().length > 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
    expect(checkProcesses(), "check processes left").toEqual([]);
    // The next cycle runs it again (and ends it again), in a new process.
    const second = await d.probe();
    expect(second.checks?.map((c) => [c.name, c.error])).toEqual([["slow", "timed out after 200ms"]]);
    expect(jobs()).toHaveLength(4);
  });

  it("keeps the check process when a check was given up before it started (the process was still starting)", async () => {
    // 20 ms: less than a new check process needs to start (Node alone takes longer; Node, the
    // worker and better-sqlite3 take 85–125 ms here), so the first check is given up before it
    // starts. (Counting passes over cycles with a tighter timeout than a running process needs
    // on a loaded machine made this test fail in CI twice: it is told by the process instead.)
    // No check process to go to first: an earlier test's is retired by a statement given up
    // after it started (1 s is ample to start one; the statement runs ~3 s), and goes.
    await make([{ name: "slow", query: SLOW, timeout: "1s" }]).probe();
    await waitFor("no check process", async () => checkProcesses(), (p) => p.length === 0);
    const first = await make([{ name: "quick", query: "SELECT 1", timeout: "20ms" }]).probe();
    expect(first.checks?.[0]?.ok, "the first check, given up while its process starts").toBe(false);
    const starting = await waitFor("the check process", async () => checkProcesses(), (p) => p.length === 1);
    // A check with time to spare goes to that same process: it was not retired for a check it
    // never started. Had it been, it would be gone and this check would start another.
    const second = await make([{ name: "quick", query: "SELECT 1", timeout: "10s" }]).probe();
    expect(second.checks?.[0]?.ok, second.checks?.[0]?.error).toBe(true);
    expect(checkProcesses()).toEqual(starting);
  });

  it("keeps a check process that another target's check still uses until that check has settled", async () => {
    const slowTarget = make([{ name: "slow", query: SLOW, timeout: "150ms" }]);
    const other = make([{ name: "waits", query: "SELECT 5 FROM (SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500000) SELECT x FROM c))", timeout: "5s" }]);
    // Both in the same process: the slow one times out while the other's statement still runs.
    const [a, b] = await Promise.all([slowTarget.probe(), other.probe()]);
    expect(a.checks?.[0]?.error).toBe("timed out after 150ms");
    expect(b.checks?.[0], "the other target's check was not cut short").toMatchObject({ ok: true, value: 5 });
    for (const until = Date.now() + 10_000; checkProcesses().length > 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
    expect(checkProcesses()).toEqual([]);
  });

  it(":memory: checks run on the probe's own connection, in this thread (no other connection sees that database)", async () => {
    // The health table exists only in the probe's in-memory database: a worker's would be empty.
    const r = await make([{ name: "rows", query: "SELECT count(*) FROM _health_check" }], ":memory:").probe();
    expect(r.status, r.reason).toBe("up");
    expect(r.checks?.[0]).toMatchObject({ ok: true, value: 1 });
    const refused = await make([{ name: "w", query: "DELETE FROM _health_check" }], ":memory:").probe();
    expect(refused.checks?.[0]?.error).toBe("check refused: the statement writes (or may write) to the database; a check may only read (SELECT …)");
  });
});

