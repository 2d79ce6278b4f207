import { resolve } from "node:path";
import Database from "better-sqlite3";
import { DbHealthError, type DialectTarget, type HealthTableDialect, type RoleInfo } from "@alfred/db-health-core";
import { checkFile, classifySqliteError, fileAt, fileId, isBusy, patiently, quickCheck, QUICK_CHECK_LOCKED, sameFile, setWal, unwritableReason, type FileId } from "./sqlite-file.js";
import { sqliteOpenOptions, type SqliteOpenOptions } from "./sqlite-options.js";
import { SQL } from "./sql.js";
import { readOnlyCheck } from "./sqlite-check.js";
import { CheckWorker } from "./sqlite-check-worker.js";

type Db = InstanceType<typeof Database>;
type Statement = Database.Statement<unknown[], unknown>;

/**
 * The probe connection's page cache, in pages. A cycle reads and writes a handful of pages, which
 * the OS keeps cached anyway. With its default cache SQLite allocates its first 20 pages in one
 * block (~86 KB) at the first read; a cache of fewer than 3 pages is allocated page by page.
 * Measured with 900 connections after their cycles: 180 → 107 KB of C heap each, +4 µs a cycle.
 * An in-memory database lives in its cache and keeps SQLite's default.
 */
const PROBE_CACHE_PAGES = 2;

/** Statements prepared each time they run, and freed with their JS object (better-sqlite3 finalizes it then). */
const RUN_ONCE: ReadonlySet<keyof typeof SQL> = new Set(["exists", "create"]);

/**
 * The SQLite dialect on better-sqlite3. SQLite is synchronous: a statement blocks the event
 * loop until it returns, so no timer can interrupt it. A locked database must therefore never be
 * waited for inside SQLite: `busy_timeout` is 0 and a statement that finds the file locked is
 * tried again from the event loop with a short backoff, until 90 % of its phase deadline, so one
 * locked file cannot stall the other targets or the HTTP endpoints. Custom checks, which may run
 * for long and cannot be interrupted either, run in a worker thread on a read-only connection of
 * their own ({@link CheckWorker}); an in-memory database's in this thread. There is no connection to
 * lose (the database is a file opened in this process), so `target.lost` is never called; a file
 * deleted or replaced since it was opened is reopened before the next cycle (`connected()`). An
 * engine without replication: a writable file is a `primary`, one that refuses writes a read-only
 * primary (degraded); `mode=ro` asks for a read-only check, and the role is then `unknown`.
 *
 * @example
 * ```ts
 * const adapter = healthTableAdapter(target, createSqliteDialect);
 * ```
 */
export function createSqliteDialect(target: DialectTarget): HealthTableDialect {
  const open: SqliteOpenOptions = sqliteOpenOptions(target.dsn);
  const table = `"${target.config.healthTable.replace(/"/g, '""')}"`;
  let db: Db | undefined;
  // Prepared once per connection; lazily, because the table may be created by someone else.
  let prepared: { db: Db; byName: Map<string, Statement> } | undefined;
  const conn = (): Db => {
    if (!db?.open) throw new DbHealthError("connect", "not connected", { driver: "sqlite" });
    return db;
  };
  const statement = (name: keyof typeof SQL): Statement => {
    const d = conn();
    if (prepared?.db !== d) {
      // Set with the first statement, which reads the schema anyway (so does this pragma: a file
      // locked at connect would otherwise fail the connect instead of the phase that waits for it).
      if (!open.memory) d.pragma(`cache_size = ${PROBE_CACHE_PAGES}`);
      prepared = { db: d, byName: new Map() };
    }
    let stmt = prepared.byName.get(name);
    if (!stmt) {
      stmt = d.prepare(SQL[name](table));
      if (name !== "upsert" && name !== "prune" && name !== "create") stmt.pluck();
      // A statement a connection runs about once (the table's set-up) is not kept: 2 KB of
      // SQLite memory each, for every SQLite target.
      if (!RUN_ONCE.has(name)) prepared.byName.set(name, stmt);
    }
    return stmt;
  };
  let integrity: string | undefined;
  // Why a file that opened cannot be written (read-only directory or file system), if so.
  let unwritable: string | undefined;
  // WAL could not be turned on at connect because another connection held the lock: the write retries it.
  let walPending = false;
  // The custom checks' worker thread (a file only): started at the first check, ended with the connection.
  let checks: CheckWorker | undefined;
  // Which file the connection has open (device, inode, birth time; a file only), and the last file
  // `PRAGMA quick_check` ran on, with its result.
  let openFile: FileId | undefined;
  let checkedFile: (FileId & { integrity: string }) | undefined;

  return {
    driver: "sqlite",
    table,
    async connect() {
      let opened: Db | undefined;
      try {
        let before;
        try {
          before = open.memory ? undefined : checkFile(open);
        } catch (err) {
          // Gone (or not a file): whatever comes next at this path is checked again.
          checkedFile = undefined;
          throw err;
        }
        // timeout 0: busy_timeout 0, see patiently(). A lock held elsewhere makes the steps below
        // report "locked" at once; the write phase retries them within its own deadline.
        opened = new Database(open.path, { readonly: open.readonly, fileMustExist: open.fileMustExist, timeout: 0 });
        // Taken before the open where the file existed: a file renamed over it in between then
        // only costs one reconnect more, never a connection to a file the path no longer names.
        const file = open.memory ? undefined : before ? fileId(before) : fileAt(open.path);
        // Once per file, not once per connection: with `connection: per-cycle` a 60 MB file was
        // read whole at every cycle (65 ms of blocked event loop each time). A file renamed over
        // this one is checked again.
        if (file && checkedFile && sameFile(file, checkedFile)) integrity = checkedFile.integrity;
        else {
          integrity = quickCheck(opened, open.quickCheckMaxBytes);
          // A lock held elsewhere skipped it: try again at the next connect.
          checkedFile = file && integrity !== QUICK_CHECK_LOCKED ? { ...file, integrity } : undefined;
        }
        const wal = open.readonly || open.memory || open.journalMode !== "wal" ? "done" : setWal(opened);
        unwritable = wal === "done" || wal === "locked" ? undefined : wal;
        walPending = wal === "locked";
        // A new in-memory database is empty: it always gets the table.
        if (open.memory) opened.exec(SQL.create(table));
        // The set-up above (quick_check reads the whole file, the switch to WAL) leaves pages in
        // this connection's cache that no cycle reads again.
        opened.exec("PRAGMA shrink_memory");
        db = opened;
        openFile = file;
      } catch (err) {
        opened?.close();
        throw err;
      }
    },
    ping: (call) => patiently(call, () => void statement("ping").get()),
    async role(): Promise<RoleInfo> {
      const info: RoleInfo = open.readonly || conn().readonly
        ? { role: "unknown", readOnly: true, detail: "opened with mode=ro" }
        : unwritable
          ? { role: "primary", readOnly: true, detail: unwritable }
          : { role: "primary", readOnly: false };
      if (integrity !== undefined && integrity !== "ok" && !integrity.startsWith("skipped")) info.warnings = [`PRAGMA quick_check: ${integrity}`];
      return info;
    },
    async inspect() {
      try {
        return { exists: statement("exists").get(target.config.healthTable) === 1 };
      } catch (err) {
        // A lock held elsewhere: CREATE is tried now, and by the write that finds no table.
        if (isBusy(err)) return { exists: false };
        throw err;
      }
    },
    createTable: (call) =>
      patiently(call, () => {
        try {
          statement("create").run();
        } catch (err) {
          unwritable ??= unwritableReason(err);
          throw err;
        }
      }),
    async upsert(probeId, token, call) {
      if (walPending) {
        const wal = await patiently(call, () => setWal(conn(), true));
        walPending = false;
        if (wal !== "done") unwritable = wal;
      }
      await patiently(call, () => statement("upsert").run(probeId, token));
    },
    select: (probeId, call) => patiently(call, () => statement("read").get(probeId) as string | undefined),
    prune: (probeId, seconds, call) => patiently(call, () => void statement("prune").run(probeId, `-${seconds} seconds`)),
    catalogRead: async () => void statement("catalog").get(),
    readOnlyQuery(sql, call) {
      const d = conn();
      // An in-memory database exists only on this connection: its checks run here, in this thread.
      if (open.memory) return readOnlyCheck(d, sql, call);
      return (checks ??= new CheckWorker(resolve(open.path))).run(sql, call);
    },
    classifyError: classifySqliteError,
    // Asked before each cycle. A file deleted, or another renamed over it (as a restore does),
    // leaves this connection on a file the path no longer names, which would go on answering:
    // reconnect, and the cycle checks what the application would open now.
    connected() {
      if (!db?.open) return false;
      if (!openFile) return true;
      const now = fileAt(open.path);
      // Gone: whatever comes next at this path is checked again, even on a file system without
      // birth times that gives it the same inode.
      if (now === undefined) checkedFile = undefined;
      return now !== undefined && sameFile(now, openFile);
    },
    async close() {
      checks?.stop();
      const d = db;
      db = undefined;
      d?.close();
    },
    destroy() {
      checks?.stop();
      const d = db;
      db = undefined;
      try {
        d?.close();
      } catch {
        // Closing a connection that is mid-statement can throw; it is closed as far as we care.
      }
    },
  };
}
