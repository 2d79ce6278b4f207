import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it, vi } from "vitest";
import Database from "better-sqlite3";
import { testDrivers } from "@alfred/db-health-testkit";
import type { Driver, TargetOptions } from "@alfred/db-health-core";
import { sqliteDriver } from "./definition.js";

const dir = mkdtempSync(join(tmpdir(), "dbh-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const drivers = testDrivers(sqliteDriver, { maxRetries: 0, probeId: "test" });
const make = (dsn: string, over: Partial<TargetOptions> = {}): Driver => drivers({ dsn, ...over });
/** A database whose index b-tree has a broken root page header: it opens, quick_check objects. */
const writeCorruptDatabase = (path: string): void => {
  const db = new Database(path);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t (v)");
  const ins = db.prepare("INSERT INTO t (v) VALUES (?)");
  for (let i = 0; i < 2000; i++) ins.run(`value-${i}`.padEnd(60, "x"));
  const root = db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 't_v'").pluck().get() as number;
  const pageSize = db.pragma("page_size", { simple: true }) as number;
  db.close();
  const fd = openSync(path, "r+");
  writeSync(fd, Buffer.alloc(16, 0xff), 0, 16, (root - 1) * pageSize);
  closeSync(fd);
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
    // An empty file is an empty database: what `touch` makes for a target that is not mode=rwc.
    for (const name of ["b.db", "c.db"]) writeFileSync(join(dir, name), "");
    for (const dsn of [`file:${dir}/a.db?cache=shared&mode=rwc`, `sqlite://${dir}/b.db`, `${dir}/c.db`, ":memory:", "file::memory:?cache=shared", `file:${dir}/d.db?mode=memory`]) {
      const r = await make(dsn).probe();
      expect(r.status, `${dsn}: ${r.reason}`).toBe("up");
      expect(r.role).toBe("primary");
    }
  });

  it("uses WAL on a writable file", async () => {
    const path = join(dir, "wal.db");
    expect((await make(`file:${path}?mode=rwc`).probe()).status).toBe("up");
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

  // A persistent connection keeps the file it opened, even once the path names another file or
  // none: probing it would report what the application can no longer see.
  describe("a file deleted or replaced while connected", () => {
    const connected = async (name: string, dsnQuery = ""): Promise<{ path: string; d: Driver }> => {
      const path = join(dir, name);
      new Database(path).exec("CREATE TABLE app (id INTEGER)").close();
      const d = make(`file:${path}${dsnQuery}`);
      const r = await d.probe();
      expect(r.status, r.reason).toBe("up");
      return { path, d };
    };
    const removeWithSidecars = (path: string): void => {
      for (const p of [path, `${path}-wal`, `${path}-shm`]) rmSync(p, { force: true });
    };

    it("is down once the file is deleted, and up again when it is back", async () => {
      const { path, d } = await connected("deleted.db");
      removeWithSidecars(path);
      const r = await d.probe();
      expect(r.status).toBe("down");
      expect(r.reason).toMatch(/no database file at /);
      new Database(path).close();
      expect((await d.probe()).status).toBe("up");
      expect(rows(path)).toBe(1);
      await d.close();
    });

    it("writes to the file renamed over it (a restore), not to the one it had open", async () => {
      const { path, d } = await connected("restored.db");
      const backup = join(dir, "restored.db.new");
      new Database(backup).exec("CREATE TABLE restored (id INTEGER)").close();
      renameSync(backup, path);
      rmSync(`${path}-wal`, { force: true });
      rmSync(`${path}-shm`, { force: true });
      const r = await d.probe();
      expect(r.status, r.reason).toBe("up");
      expect(r.phases.connect?.ok).toBe(true);
      // The health table and its row are in the file the path names now.
      expect(rows(path)).toBe(1);
      await d.close();
    });

    it("is down when what is renamed over it is not a database", async () => {
      const { path, d } = await connected("garbage.db");
      const other = join(dir, "garbage.db.new");
      writeFileSync(other, "this is not a SQLite database, only text long enough to be read as a header. ".repeat(20));
      renameSync(other, path);
      const r = await d.probe();
      expect(r.status).toBe("down");
      expect(r.reason).toMatch(/^connect failed: (file is not a database|database disk image is malformed)/);
      await d.close();
    });
  });

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

  it("never creates a file unless the DSN says mode=rwc", async () => {
    const absent = (name: string): string => join(dir, `absent-${name}.db`);
    for (const [name, dsn] of [
      ["ro", `file:${absent("ro")}?mode=ro`],
      ["rw", `file:${absent("rw")}?mode=rw`],
      ["default", `file:${absent("default")}`],
      ["sqlite", `sqlite://${absent("sqlite")}`],
      ["plain", absent("plain")],
    ]) {
      const r = await make(dsn!).probe();
      expect(r.status, dsn).toBe("down");
      expect(r.reason).toBe(`connect failed: no database file at ${absent(name!)}: a SQLite target is opened, never created, unless its DSN says mode=rwc (file:PATH?mode=rwc)`);
      expect(existsSync(absent(name!))).toBe(false);
    }
    const created = await make(`file:${absent("rwc")}?mode=rwc`).probe();
    expect(created.status, created.reason).toBe("up");
    expect(existsSync(absent("rwc"))).toBe(true);
  });

  it("refuses a path that is not a regular file, before SQLite reads or writes it", async () => {
    const fifo = join(dir, "fifo.db");
    spawnSync("mkfifo", [fifo]);
    for (const [path, kind] of [
      [fifo, "a FIFO"],
      [dir, "a directory"],
      ["/dev/zero", "a character device"],
    ]) {
      for (const dsn of [path!, `file:${path}?mode=rwc`]) {
        const r = await make(dsn).probe();
        expect(r.status, dsn).toBe("down");
        expect(r.reason).toBe(`connect failed: ${path} is ${kind}, not a regular file: point the DSN at the SQLite database file`);
      }
    }
  });

  it("refuses a password parameter instead of ignoring it", () => {
    for (const key of ["password", "passwd", "pwd", "pass"]) {
      expect(() => make(`file:${dir}/x.db?${key}=hunter2`)).toThrow(/SQLite DSN: a password parameter is not supported/);
      expect(() => make(`file:${dir}/x.db?${key}=hunter2`)).not.toThrow(/hunter2/);
    }
  });

  it("rejects unknown modes and parameters up front", () => {
    expect(() => make(`file:${dir}/x.db?mode=rwx`)).toThrow("SQLite mode=rwx is not supported: use mode=ro, rw, rwc or memory");
    expect(() => make(`file:${dir}/x.db?mdoe=ro`)).toThrow(/SQLite DSN: unknown parameter mdoe \(supported: mode, cache, journal_mode, quick_check_max_bytes\)/);
    expect(() => make(`file:${dir}/x.db?_busy_timeout=5000&journal_mode=off`)).toThrow(
      "SQLite DSN: _busy_timeout is not supported: the probe sets busy_timeout from its phase deadlines; journal_mode=off is not supported: use wal or keep",
    );
  });

  it("degrades within the write deadline while another connection holds the write lock", async () => {
    const path = join(dir, "locked.db");
    const d = make(`file:${path}?mode=rwc`, { writeTimeout: "400ms" });
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

  it("is down with the reason while a rollback-journal database is exclusively locked", async () => {
    const path = join(dir, "locked-rollback.db");
    const locker = new Database(path);
    locker.exec("CREATE TABLE app (id INTEGER); BEGIN EXCLUSIVE");
    const d = make(`file:${path}?journal_mode=keep`, { readTimeout: "300ms", connectTimeout: "300ms" });
    try {
      const r = await d.probe();
      // An exclusive lock in rollback mode blocks readers too: nothing can be read.
      expect(r.status, r.reason).toBe("down");
      expect(r.reason).toMatch(/^ping failed: database is locked \(SQLITE_BUSY\)/);
    } finally {
      locker.exec("ROLLBACK");
      locker.close();
    }
    expect((await d.probe()).status).toBe("up");
  });

  it("never stalls the event loop while it waits for a lock held elsewhere", async () => {
    // SQLite waits for a lock on the calling thread: with a busy_timeout, one locked file held
    // every timer, socket and other target of the process for up to a phase deadline (a daemon
    // answered /healthz 408 after 7 s). The waits now happen between tries, on the event loop.
    for (const [name, lock] of [
      ["rollback journal, exclusive", (db: InstanceType<typeof Database>) => db.exec("CREATE TABLE app (id INTEGER); BEGIN EXCLUSIVE")],
      ["WAL, write lock", (db: InstanceType<typeof Database>) => db.exec("PRAGMA journal_mode = WAL; CREATE TABLE app (id INTEGER); BEGIN IMMEDIATE")],
    ] as const) {
      const path = join(dir, `stall-${name.split(",")[0]!.replace(/\W/g, "")}.db`);
      const locker = new Database(path);
      lock(locker);
      const d = make(`file:${path}?journal_mode=keep`, { readTimeout: "1s", writeTimeout: "1s", connectTimeout: "1s" });
      let last = performance.now();
      let longest = 0;
      const ticker = setInterval(() => {
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
      }, 5);
      try {
        const r = await d.probe();
        longest = Math.max(longest, performance.now() - last);
        expect(r.status, `${name}: ${r.reason}`).not.toBe("up");
        expect(r.reason, name).toMatch(/database is locked/);
        // A generous bound: the longest the timer waited is a pause between tries, not a phase.
        expect(longest, name).toBeLessThan(250);
      } finally {
        clearInterval(ticker);
        locker.exec("ROLLBACK");
        locker.close();
      }
    }
  });

  it("creates the health table later when a WAL database was write-locked at connect", async () => {
    const path = join(dir, "locked-wal.db");
    const locker = new Database(path);
    locker.pragma("journal_mode = WAL");
    locker.exec("CREATE TABLE app (id INTEGER); BEGIN EXCLUSIVE");
    const d = make(`file:${path}`, { writeTimeout: "300ms", connectTimeout: "300ms" });
    try {
      const r = await d.probe();
      expect(r.status, r.reason).toBe("degraded");
      expect(r.reason).toMatch(/^write check failed: database is locked/);
    } finally {
      locker.exec("ROLLBACK");
      locker.close();
    }
    const r = await d.probe();
    expect(r.status, r.reason).toBe("up");
    expect(rows(path)).toBe(1);
  });

  it("does not spend the connect deadline waiting for a lock held elsewhere: the write waits, within its own", async () => {
    // Before the health-table protocol moved into core, CREATE TABLE at connect gave up at once on
    // a locked file and the write retried it; the connect phase must not wait 90 % of
    // connectTimeout (a 4.5 s "connect latency" by default) for the application's transaction.
    for (const [name, lock] of [
      ["WAL, write lock", (db: InstanceType<typeof Database>) => db.exec("PRAGMA journal_mode = WAL; CREATE TABLE app (id INTEGER); BEGIN IMMEDIATE")],
      ["rollback journal, exclusive", (db: InstanceType<typeof Database>) => db.exec("CREATE TABLE app (id INTEGER); BEGIN EXCLUSIVE")],
    ] as const) {
      const path = join(dir, `connect-lock-${name.split(",")[0]!.replace(/\W/g, "")}.db`);
      const locker = new Database(path);
      lock(locker);
      const d = make(`file:${path}?journal_mode=keep`, { connectTimeout: "3s", readTimeout: "300ms", writeTimeout: "300ms" });
      try {
        const r = await d.probe();
        expect(r.status, `${name}: ${r.reason}`).not.toBe("up");
        expect(r.reason, name).toMatch(/database is locked/);
        expect(r.phases.connect?.ms, name).toBeLessThan(250);
      } finally {
        locker.exec("ROLLBACK");
        locker.close();
      }
      const r = await d.probe();
      expect(r.status, `${name}: ${r.reason}`).toBe("up");
      expect(rows(path)).toBe(1);
    }
  });

  it("reports a failed PRAGMA quick_check as degraded, and skips the check over quick_check_max_bytes", async () => {
    const corrupt = join(dir, "corrupt.db");
    writeCorruptDatabase(corrupt);
    const bad = await make(`file:${corrupt}`).probe();
    expect(bad.status).toBe("degraded");
    expect(bad.reason).toMatch(/^PRAGMA quick_check: /);
    expect(bad.reason).not.toContain("\n");
    // the same file with the check turned off: nothing looks at the broken index
    expect((await make(`file:${corrupt}?quick_check_max_bytes=1`).probe()).status).toBe("up");
  });

  it("runs PRAGMA quick_check once per file, not at every per-cycle connect; a file renamed over it is checked again", async () => {
    // It reads the whole file (up to quick_check_max_bytes) on the event loop: at every cycle of a
    // per-cycle target that was 65 ms of a 60 MB file each time.
    const path = join(dir, "checked-once.db");
    new Database(path).exec("CREATE TABLE app (id INTEGER)").close();
    const pragma = vi.spyOn(Database.prototype, "pragma");
    const quickChecks = (): number => pragma.mock.calls.filter(([sql]) => String(sql).startsWith("quick_check")).length;
    try {
      const d = make(`file:${path}`, { connection: "per-cycle" });
      for (let i = 0; i < 3; i++) expect((await d.probe()).status).toBe("up");
      expect(quickChecks()).toBe(1);
      const restored = `${path}.new`;
      new Database(restored).exec("CREATE TABLE app (id INTEGER)").close();
      renameSync(restored, path);
      expect((await d.probe()).status).toBe("up");
      expect(quickChecks()).toBe(2);
      await d.close();
    } finally {
      pragma.mockRestore();
    }
  });

  it("checks a file created after the last one was deleted, even when it gets the same inode", async () => {
    // ext4 hands a freed inode number to the next file created: device and inode alone took the
    // new file for the one already checked, and kept its verdict.
    for (const connection of ["per-cycle", "persistent"] as const) {
      const path = join(dir, `reused-inode-${connection}.db`);
      new Database(path).exec("CREATE TABLE app (id INTEGER)").close();
      const d = make(`file:${path}`, { connection });
      expect((await d.probe()).status).toBe("up");
      for (const p of [path, `${path}-wal`, `${path}-shm`]) rmSync(p, { force: true });
      writeCorruptDatabase(path);
      const r = await d.probe();
      expect(r.status, `${connection}: ${r.reason}`).toBe("degraded");
      expect(r.reason).toMatch(/^PRAGMA quick_check: /);
      await d.close();
    }
  });

  it("removes rows of probers gone for longer than pruneAfter, never its own", async () => {
    const path = join(dir, "prune.db");
    const d = make(`file:${path}?mode=rwc`, { pruneAfter: "1m" });
    expect((await d.probe()).status).toBe("up");
    const db = new Database(path);
    const add = db.prepare("INSERT INTO _health_check (probe_id, token, checked_at) VALUES (?, 't', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?))");
    add.run("old-pod", "-2 minutes");
    add.run("live-pod", "-10 seconds");
    db.prepare("UPDATE _health_check SET checked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 hour') WHERE probe_id = 'test'").run();
    // Pruning runs once a minute: the same driver's next cycle leaves the rows alone…
    expect((await d.probe()).status).toBe("up");
    expect(db.prepare("SELECT count(*) FROM _health_check").pluck().get()).toBe(3);
    // …and a prober's first cycle prunes.
    expect((await make(`file:${path}`, { pruneAfter: "1m" }).probe()).status).toBe("up");
    const ids = db.prepare("SELECT probe_id FROM _health_check ORDER BY probe_id").pluck().all();
    db.close();
    expect(ids).toEqual(["live-pod", "test"]);
  });

  it("leaves the journal mode alone with journal_mode=keep", async () => {
    const path = join(dir, "keep.db");
    new Database(path).close();
    expect((await make(`file:${path}?journal_mode=keep`).probe()).status).toBe("up");
    const db = new Database(path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("delete");
    db.close();
  });
});

// Root ignores file permissions. The child loads every module as root (so the checkout may
// sit anywhere, even under a 0700 home) and only then drops to "nobody" before it probes.
describe("sqlite driver in a directory it cannot write", () => {
  const asRoot = process.getuid?.() === 0;
  const coreDist = pathToFileURL(fileURLToPath(new URL("../../core/dist/index.js", import.meta.url))).href;
  const driverDist = pathToFileURL(fileURLToPath(new URL("../dist/definition.js", import.meta.url))).href;
  const probe = (dsn: string): { status: string; reason?: string } => {
    const script = `
      const { createDriver } = await import(${JSON.stringify(coreDist)});
      const { sqliteDriver } = await import(${JSON.stringify(driverDist)});
      const d = createDriver({ dsn: ${JSON.stringify(dsn)}, maxRetries: 0, probeId: "t" }, { definition: sqliteDriver });
      if (${asRoot}) { process.setgid(65534); process.setuid(65534); }
      const r = await d.probe(); await d.close();
      process.stdout.write(JSON.stringify({ status: r.status, reason: r.reason }));`;
    const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
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

// What a probe's connection holds in C memory once its cycles have run: SQLite's page cache
// allocates its first 20 pages in one ~86 KB block unless the cache is under 3 pages. Measured in
// a fresh process (glibc's main heap, 300 file targets, three cycles each): 180 KB a connection
// with SQLite's default cache, 107 KB with the probe's.
describe("sqlite driver memory per connection", () => {
  const coreDist = pathToFileURL(fileURLToPath(new URL("../../core/dist/index.js", import.meta.url))).href;
  const driverDist = pathToFileURL(fileURLToPath(new URL("../dist/definition.js", import.meta.url))).href;

  it("keeps well under SQLite's default page cache block per connection after its cycles", () => {
    const files = mkdtempSync(join(dir, "memory-"));
    const script = `
      import { readFileSync } from "node:fs";
      const { createDriver } = await import(${JSON.stringify(coreDist)});
      const { sqliteDriver } = await import(${JSON.stringify(driverDist)});
      const heapKb = () => {
        const maps = readFileSync("/proc/self/smaps", "utf8").split(/\\n(?=[0-9a-f]+-)/);
        const heap = maps.find((m) => m.split("\\n")[0].endsWith("[heap]"));
        return heap ? Number(/\\nRss:\\s+(\\d+)/.exec(heap)[1]) : 0;
      };
      const n = 300;
      const make = (i) => createDriver({ dsn: "file:${files}/t" + i + ".db?mode=rwc", maxRetries: 0, probeId: "m" }, { definition: sqliteDriver });
      // One target first, so that what every connection shares (SQLite's globals) is not counted.
      const first = make(-1);
      for (let c = 0; c < 3; c++) await first.probe();
      const before = heapKb();
      const drivers = Array.from({ length: n }, (_, i) => make(i));
      const statuses = new Set();
      for (let c = 0; c < 3; c++) for (const d of drivers) statuses.add((await d.probe()).status);
      process.stdout.write(JSON.stringify({ perConnectionKb: (heapKb() - before) / n, statuses: [...statuses] }));`;
    const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
    if (out.status !== 0) throw new Error(`child failed: ${out.stderr}`);
    const { perConnectionKb, statuses } = JSON.parse(out.stdout) as { perConnectionKb: number; statuses: string[] };
    expect(statuses).toEqual(["up"]);
    expect(perConnectionKb).toBeGreaterThan(20);
    expect(perConnectionKb).toBeLessThan(140);
  }, 90_000);
});
