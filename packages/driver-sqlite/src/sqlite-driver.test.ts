import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { createDriver, type Driver, type TargetOptions } from "@alfred/db-health-core";
import { sqliteDriver } from "./definition.js";

const dir = mkdtempSync(join(tmpdir(), "dbh-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const open: Driver[] = [];
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((d) => d.close()));
});
const make = (dsn: string, over: Partial<TargetOptions> = {}): Driver => {
  const d = createDriver({ dsn, maxRetries: 0, probeId: "test", ...over }, { definition: sqliteDriver });
  open.push(d);
  return d;
};
const rows = (path: string): number => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare("SELECT count(*) FROM _health_check").pluck().get() as number;
  } finally {
    db.close();
  }
};

describe("sqlite driver", () => {
  it("accepts file: URLs, sqlite: URLs, plain paths and :memory:", async () => {
    for (const dsn of [`file:${dir}/a.db?cache=shared&mode=rwc`, `sqlite://${dir}/b.db`, `${dir}/c.db`, ":memory:", "file::memory:?cache=shared", `file:${dir}/d.db?mode=memory`]) {
      const r = await make(dsn).probe();
      expect(r.status, `${dsn}: ${r.reason}`).toBe("up");
      expect(r.role).toBe("primary");
    }
  });

  it("uses WAL on a writable file", async () => {
    const path = join(dir, "wal.db");
    expect((await make(`file:${path}`).probe()).status).toBe("up");
    const db = new Database(path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });

  it("leaves exactly one row after 10,000 cycles", async () => {
    const path = join(dir, "cycles.db");
    const d = make(`file:${path}?mode=rwc`);
    for (let i = 0; i < 10_000; i++) {
      const r = await d.probe();
      if (r.status !== "up") throw new Error(`cycle ${i}: ${r.status}: ${r.reason}`);
    }
    expect(rows(path)).toBe(1);
  }, 120_000);

  it("mode=ro runs a read-only check: write skipped, not degraded", async () => {
    const path = join(dir, "ro.db");
    expect((await make(`file:${path}?mode=rwc`).probe()).status).toBe("up");
    const r = await make(`file:${path}?mode=ro`).probe();
    expect(r.status).toBe("up");
    expect(r.writeSkipped).toBe("node is read-only (opened with mode=ro)");
    expect(r.phases.read?.ok).toBe(true);
    expect(r.phases.write).toBeUndefined();
    expect(r.role).toBe("unknown");
  });

  it("mode=ro works on a file that has no health table", async () => {
    const path = join(dir, "ro-plain.db");
    new Database(path).exec("CREATE TABLE app (id INTEGER)").close();
    const r = await make(`file:${path}?mode=ro`).probe();
    expect(r.status, r.reason).toBe("up");
  });

  it("mode=ro and mode=rw need an existing file; rwc creates it", async () => {
    for (const mode of ["ro", "rw"]) {
      const r = await make(`file:${dir}/absent-${mode}.db?mode=${mode}`).probe();
      expect(r.status).toBe("down");
      expect(r.reason).toMatch(/unable to open database file|does not exist/);
    }
  });

  it("rejects unknown modes and parameters up front", () => {
    expect(() => make(`file:${dir}/x.db?mode=rwx`)).toThrow("SQLite mode=rwx is not supported: use mode=ro, rw, rwc or memory");
    expect(() => make(`file:${dir}/x.db?mdoe=ro`)).toThrow(/unknown SQLite DSN parameter\(s\): mdoe/);
  });

  it("degrades within the write deadline while another connection holds the write lock", async () => {
    const path = join(dir, "locked.db");
    const d = make(`file:${path}`, { writeTimeout: "400ms" });
    expect((await d.probe()).status).toBe("up");
    const locker = new Database(path);
    locker.exec("BEGIN EXCLUSIVE");
    try {
      const t0 = performance.now();
      const r = await d.probe();
      const elapsed = performance.now() - t0;
      expect(r.status).toBe("degraded");
      expect(r.reason).toMatch(/^write check failed: database is locked/);
      // busy_timeout is bounded by the write deadline: the event loop was never held longer
      expect(r.phases.write!.ms).toBeLessThan(450);
      expect(elapsed).toBeLessThan(1500);
    } finally {
      locker.exec("ROLLBACK");
      locker.close();
    }
    expect((await d.probe()).status).toBe("up");
  });

  it("reports PRAGMA quick_check and skips it on files over quick_check_max_bytes", async () => {
    const path = join(dir, "qc.db");
    const r = await make(`file:${path}?quick_check_max_bytes=0`).probe();
    expect(r.status).toBe("up");
    const corrupt = join(dir, "corrupt.db");
    const db = new Database(corrupt);
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t (v)");
    const ins = db.prepare("INSERT INTO t (v) VALUES (?)");
    for (let i = 0; i < 2000; i++) ins.run(`value-${i}`.padEnd(60, "x"));
    const root = db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 't_v'").pluck().get() as number;
    const pageSize = db.pragma("page_size", { simple: true }) as number;
    db.close();
    // Break the index b-tree's root page header: the file still opens, quick_check must object.
    const fs = await import("node:fs");
    const fd = fs.openSync(corrupt, "r+");
    fs.writeSync(fd, Buffer.alloc(16, 0xff), 0, 16, (root - 1) * pageSize);
    fs.closeSync(fd);
    const bad = await make(`file:${corrupt}`).probe();
    expect(bad.status).not.toBe("up");
    expect(bad.reason).toMatch(/quick_check|malformed|corrupt/i);
  });
});

// Root ignores file permissions, so the unwritable-directory cases run as "nobody" in a child.
describe("sqlite driver in a directory it cannot write", () => {
  const asNobody = process.getuid?.() === 0;
  const coreDist = pathToFileURL(join(fileURLToPath(new URL("../../core/dist/index.js", import.meta.url)))).href;
  const driverDist = pathToFileURL(join(fileURLToPath(new URL("../dist/definition.js", import.meta.url)))).href;
  const probe = (dsn: string): { status: string; reason?: string } => {
    const script = `
      const { createDriver } = await import(${JSON.stringify(coreDist)});
      const { sqliteDriver } = await import(${JSON.stringify(driverDist)});
      const d = createDriver({ dsn: ${JSON.stringify(dsn)}, maxRetries: 0, probeId: "t" }, { definition: sqliteDriver });
      const r = await d.probe(); await d.close();
      process.stdout.write(JSON.stringify({ status: r.status, reason: r.reason }));`;
    const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 20_000,
      ...(asNobody ? { uid: 65534, gid: 65534 } : {}),
    });
    if (out.status !== 0) throw new Error(`child failed: ${out.stderr}`);
    return JSON.parse(out.stdout) as { status: string; reason?: string };
  };
  const lockedDir = join(dir, "readonly-dir");
  mkdirSync(lockedDir);
  const existing = join(lockedDir, "existing.db");
  new Database(existing).exec("CREATE TABLE app (id INTEGER)").close();
  chmodSync(existing, 0o666);
  chmodSync(lockedDir, 0o555);
  // mkdtemp makes 0700 directories: let "nobody" reach the one it must not write.
  chmodSync(dir, 0o755);

  it("is down with the reason when the file cannot be created", () => {
    const r = probe(`file:${lockedDir}/new.db?mode=rwc`);
    expect(r.status, r.reason).toBe("down");
    expect(r.reason).toMatch(/unable to open database file/);
  });

  it("is degraded with the reason when the file opens but cannot be written", () => {
    const r = probe(`file:${existing}`);
    expect(r.status, r.reason).toBe("degraded");
    expect(r.reason).toMatch(/^primary is read-only \(attempt to write a readonly database \(SQLITE_READONLY/);
  });
});
