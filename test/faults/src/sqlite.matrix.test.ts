import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqliteDriver } from "@alfred/db-health-driver-sqlite/definition";
import { describeRow, observeProbe, probeUntil, runCase, timedProbe, type CaseSpec } from "./matrix/case.js";
import { createMatrix } from "./matrix/record.js";

// The SQLite column of the fault matrix: real files on the local disk and on tiny tmpfs mounts
// (a filesystem that is full, one that is read-only). SQLite has no server: faults of the
// network, authentication and replication do not apply and are listed as such.
const meta: Record<string, string> = {};
const matrix = createMatrix("sqlite", meta);
const dir = mkdtempSync(join(tmpdir(), "dbh-matrix-sqlite-"));
const mounts: string[] = [];
const noSessions = async (): Promise<number> => 0;

/** a tmpfs of `kib` KiB at a new directory, or undefined where mounting is not allowed */
function tinyFilesystem(name: string, kib: number): string | undefined {
  const at = join(dir, name);
  mkdirSync(at);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k,mode=0755`, `dbh-${name}`, at], { stdio: "pipe" });
    mounts.push(at);
    return at;
  } catch {
    return undefined;
  }
}

/** fills the filesystem holding `at` until the kernel says ENOSPC; returns the filler's path */
function fill(at: string): string {
  const filler = join(at, "filler.bin");
  const fd = openSync(filler, "w");
  try {
    const chunk = Buffer.alloc(4096, 1);
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
  return filler;
}

const check = async (spec: CaseSpec): Promise<void> => {
  const row = await runCase(matrix, sqliteDriver, noSessions, spec);
  expect(row.pass, describeRow(row)).toBe(true);
};

const NOT_APPLICABLE: Array<[string, string]> = [
  ["refused port / blackhole listener", "embedded: no network, nothing listens"],
  ["wrong password / TLS required", "SQLite has no authentication and no transport"],
  ["missing database", "a database is a file here: see \"missing file\""],
  ["streaming replica", "no replication in SQLite (role is reported as unknown)"],
  ["slow link / stalled connection", "no network between the probe and the file"],
];

beforeAll(() => {
  const db = new Database(":memory:");
  meta["library"] = `SQLite ${db.prepare("SELECT sqlite_version()").pluck().get() as string} (better-sqlite3 12)`;
  db.close();
});

afterAll(() => {
  matrix.flush();
  for (const at of mounts) {
    try {
      execFileSync("umount", ["-l", at], { stdio: "pipe" });
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("fault matrix: SQLite", () => {
  it("healthy file", () => check({ fault: "healthy file (baseline, WAL)", expected: "up", run: async (ctx) => observeProbe(ctx.driver(`file:${join(dir, "ok.db")}?mode=rwc`)) }));

  it("missing file", () =>
    check({ fault: "missing file (mode=rw: must exist)", expected: "down", run: async (ctx) => observeProbe(ctx.driver(`file:${join(dir, "absent.db")}?mode=rw`)) }));

  it("missing file, default mode", () =>
    check({
      fault: "missing file, no mode= (a probe never creates the database it checks)",
      expected: "down",
      run: async (ctx) => {
        const path = join(dir, "never-created.db");
        const o = await observeProbe(ctx.driver(`file:${path}`));
        return { ...o, note: existsSync(path) ? "the file was created" : "no file created" };
      },
    }));

  it("path is a FIFO", () =>
    check({
      fault: "path is a FIFO (nobody writes to it)",
      expected: "down",
      run: async (ctx) => {
        const path = join(dir, "fifo.db");
        execFileSync("mkfifo", [path]);
        return observeProbe(ctx.driver(`file:${path}?mode=rwc`));
      },
    }));

  it("path is a device", () =>
    check({ fault: "path is a character device (/dev/zero)", expected: "down", run: async (ctx) => observeProbe(ctx.driver("file:/dev/zero?mode=rwc")) }));

  it("path is a directory", () => check({ fault: "path is a directory", expected: "down", run: async (ctx) => observeProbe(ctx.driver(`file:${dir}?mode=rwc`)) }));

  it("not a database", () =>
    check({
      fault: "file that is not a database (garbage bytes)",
      expected: "down",
      run: async (ctx) => {
        const path = join(dir, "garbage.db");
        writeFileSync(path, Buffer.alloc(8192, 0x5a));
        return observeProbe(ctx.driver(`file:${path}`));
      },
    }));

  it("write lock held elsewhere", () =>
    check({
      fault: "write lock held by another connection (BEGIN EXCLUSIVE)",
      expected: "degraded",
      run: async (ctx) => {
        const path = join(dir, "locked.db");
        const d = ctx.driver(`file:${path}?mode=rwc`);
        await d.probe();
        const locker = new Database(path);
        ctx.defer(() => locker.close());
        locker.exec("BEGIN EXCLUSIVE");
        const o = await observeProbe(d, (r) => `write ${r.phases.write?.ms.toFixed(0)} ms (deadline 1 s, busy_timeout bounded by it)`);
        locker.exec("ROLLBACK");
        return { ...o, note: `${o.note}; ${(await d.probe()).status} once released` };
      },
    }));

  it("writer killed while holding the lock", () =>
    check({
      fault: "another process killed (SIGKILL) while holding the write lock",
      expected: "degraded, then up",
      run: async (ctx) => {
        const path = join(dir, "crashed-writer.db");
        const d = ctx.driver(`file:${path}?mode=rwc`);
        await d.probe();
        const script = `const D=require("better-sqlite3");const db=new D(${JSON.stringify(path)});db.exec("BEGIN IMMEDIATE");db.exec("UPDATE _health_check SET token = 'x'");process.stdout.write("locked\\n");setInterval(()=>{},1000);`;
        const child = spawn(process.execPath, ["-e", script], { cwd: fileURLToPath(new URL("..", import.meta.url)), stdio: ["ignore", "pipe", "inherit"] });
        const exited = new Promise((resolve) => child.once("exit", resolve));
        ctx.defer(async () => {
          child.kill("SIGKILL");
          await exited;
        });
        await new Promise<void>((resolve, reject) => {
          child.stdout!.once("data", () => resolve());
          child.once("exit", (code) => reject(new Error(`lock holder exited early (${code})`)));
        });
        const { result: locked } = await timedProbe(d);
        const killedAt = performance.now();
        child.kill("SIGKILL");
        await exited;
        const back = await probeUntil(d, "up", 5_000, 20);
        return {
          observed: `${locked.status}, then ${back.result.status}`,
          detectMs: locked.durationMs,
          reason: locked.reason,
          note: `up ${(performance.now() - killedAt).toFixed(0)} ms after the kill: the kernel drops a dead process's locks, no recovery step needed`,
        };
      },
    }));

  it("disk full", () =>
    check({
      fault: "disk full (a 512 KiB tmpfs filled to ENOSPC)",
      expected: "degraded, then up",
      run: async (ctx) => {
        const at = tinyFilesystem("full", 512);
        if (!at) return { observed: "n/a", note: "cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)" };
        const d = ctx.driver(`file:${join(at, "full.db")}?mode=rwc`);
        await d.probe();
        const filler = fill(at);
        const full = await timedProbe(d);
        rmSync(filler);
        const back = await probeUntil(d, "up", 5_000, 20);
        return {
          observed: `${full.result.status}, then ${back.result.status}`,
          detectMs: full.ms,
          reason: full.result.reason,
          note: `up ${back.ms.toFixed(0)} ms after space was freed, same driver`,
        };
      },
    }));

  it("read-only filesystem", () =>
    check({
      fault: "read-only filesystem (tmpfs remounted ro), health table present",
      expected: "degraded",
      run: async (ctx) => {
        const at = tinyFilesystem("ro", 1024);
        if (!at) return { observed: "n/a", note: "cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)" };
        // A rollback-journal file (WAL needs a writable -shm beside it even to read).
        const path = join(at, "ro.db");
        new Database(path).close();
        const setup = ctx.driver(`file:${path}?journal_mode=keep`);
        const before = await setup.probe();
        await setup.close();
        execFileSync("mount", ["-o", "remount,ro", at], { stdio: "pipe" });
        const o = await observeProbe(ctx.driver(`file:${path}?journal_mode=keep`));
        return { ...o, note: `${before.status} before the remount` };
      },
    }));

  it("cannot create the health table", () =>
    check({
      fault: "permission denied on CREATE: read-only filesystem, no health table yet",
      expected: "degraded",
      run: async (ctx) => {
        const at = tinyFilesystem("ro-empty", 1024);
        if (!at) return { observed: "n/a", note: "cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)" };
        const path = join(at, "empty.db");
        const db = new Database(path);
        db.exec("CREATE TABLE app_data (id INTEGER PRIMARY KEY)");
        db.close();
        execFileSync("mount", ["-o", "remount,ro", at], { stdio: "pipe" });
        return observeProbe(ctx.driver(`file:${path}?journal_mode=keep`));
      },
    }));

  for (const [fault, why] of NOT_APPLICABLE) {
    it(`not applicable: ${fault}`, () => {
      matrix.add({ fault, expected: "n/a", observed: "n/a", leftBehind: "nothing", note: why });
    });
  }
});
