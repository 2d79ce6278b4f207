import { statSync } from "node:fs";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import { DbHealthError, TOKEN_HISTORY_LENGTH, fileKind, type AdapterTarget, type DriverAdapter, type RoleInfo } from "@alfred/db-health-core";
import { sqliteOpenOptions, type SqliteOpenOptions } from "./sqlite-options.js";

type Db = InstanceType<typeof Database>;
type Statement = Database.Statement<unknown[], unknown>;

/** Every statement the probe sends, in one place for review. Timestamps are ISO-8601 UTC. */
/** How often the prune statement runs: rows older than `pruneAfter` (≥ 1 min) go within a minute. */
const PRUNE_EVERY_MS = 60_000;
/** Longest pause between two tries of a statement that found the database locked. */
const MAX_LOCK_PAUSE_MS = 25;

const SQL = {
  upsert: (t: string) =>
    `INSERT INTO ${t} (probe_id, token, checked_at) VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
     ON CONFLICT (probe_id) DO UPDATE SET token = substr(excluded.token || ' ' || token, 1, ${TOKEN_HISTORY_LENGTH}), checked_at = excluded.checked_at`,
  prune: (t: string) => `DELETE FROM ${t} WHERE probe_id <> ? AND checked_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)`,
  read: (t: string) => `SELECT token FROM ${t} WHERE probe_id = ?`,
  ping: () => "SELECT 1",
  create: (t: string) => `CREATE TABLE IF NOT EXISTS ${t} (probe_id TEXT PRIMARY KEY NOT NULL, token TEXT NOT NULL, checked_at TEXT NOT NULL)`,
} as const;

/**
 * The SQLite adapter on better-sqlite3. SQLite is synchronous: a statement blocks the event
 * loop until it returns, so no timer can interrupt it. A locked database must therefore never be
 * waited for inside SQLite: `busy_timeout` is 0 and a statement that finds the file locked is
 * tried again from the event loop with a short backoff, until 90 % of its phase deadline, so one
 * locked file cannot stall the other targets or the HTTP endpoints. There is no connection to lose (the database is a file opened in this process),
 * so `target.connectionLost` is never called.
 *
 * @example
 * ```ts
 * const adapter = createSqliteAdapter(target);
 * await adapter.connect(AbortSignal.timeout(5000));
 * ```
 */
export function createSqliteAdapter(target: AdapterTarget): DriverAdapter {
  const { config } = target;
  const open: SqliteOpenOptions = sqliteOpenOptions(target.dsn);
  const table = quoteIdent(config.healthTable);
  let db: Db | undefined;
  // Prepared once per connection; lazily, because the table may be created by someone else.
  let prepared: { db: Db; byName: Map<string, Statement> } | undefined;
  const statement = (d: Db, name: keyof typeof SQL): Statement => {
    if (prepared?.db !== d) prepared = { db: d, byName: new Map() };
    let stmt = prepared.byName.get(name);
    if (!stmt) {
      stmt = d.prepare(SQL[name](table));
      if (name === "read" || name === "ping") stmt.pluck();
      prepared.byName.set(name, stmt);
    }
    return stmt;
  };
  let integrity: string | undefined;
  // Why a file that opened cannot be written (read-only directory or file system), if so.
  let unwritable: string | undefined;
  // WAL/CREATE TABLE could not run at connect because another connection held the lock:
  // the write phase retries them within its own deadline.
  let setupPending = false;
  let lastPrune = 0;

  const fail = (err: unknown, what: string): never => {
    throw toError(err, what, target.redact);
  };
  const conn = (): Db => {
    if (!db?.open) throw new DbHealthError("connect", "not connected", { driver: "sqlite" });
    return db;
  };
  // SQLite waits for a lock by sleeping in C, on the event loop's thread: with a busy_timeout a
  // locked file would stall every other target, /healthz and the scrapes for up to the phase
  // deadline. So the busy timeout stays 0 (SQLITE_BUSY at once) and the wait happens here, on
  // the event loop: retry with a short backoff until 90% of the phase deadline, so SQLite's own
  // "database is locked" arrives before core's deadline.
  const patiently = async <T>(deadlineMs: number, step: () => T): Promise<T> => {
    const until = performance.now() + deadlineMs * 0.9;
    for (let pause = 1; ; pause = Math.min(pause * 2, MAX_LOCK_PAUSE_MS)) {
      try {
        return step();
      } catch (err) {
        if (!isBusy(err) || performance.now() + pause >= until) throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  };

  return {
    async connect() {
      let opened: Db | undefined;
      try {
        if (!open.memory) checkFile(open);
        // timeout 0: busy_timeout 0, see patiently(). A lock held elsewhere makes both steps below
        // report "locked" at once; the write phase retries the setup within its own deadline.
        opened = new Database(open.path, { readonly: open.readonly, fileMustExist: open.fileMustExist, timeout: 0 });
        integrity = quickCheck(opened, open.quickCheckMaxBytes);
        const setup = open.readonly ? "done" : prepareWrites(opened, table, config.createHealthTable, open.memory, open.journalMode === "wal");
        unwritable = setup === "done" || setup === "locked" ? undefined : setup;
        setupPending = setup === "locked";
        db = opened;
      } catch (err) {
        opened?.close();
        fail(err, "connect");
      }
    },
    async ping() {
      try {
        const d = conn();
        await patiently(config.readTimeout, () => statement(d, "ping").get());
      } catch (err) {
        fail(err, "ping");
      }
    },
    async role(): Promise<RoleInfo> {
      const d = conn();
      // mode=ro asks for a read-only check; a file that should be writable but is not is a
      // read-only primary (degraded, with the reason).
      const info: RoleInfo = open.readonly || d.readonly
        ? { role: "unknown", readOnly: true, detail: "opened with mode=ro" }
        : unwritable
          ? { role: "primary", readOnly: true, detail: unwritable }
          : { role: "primary", readOnly: false };
      if (integrity !== undefined && integrity !== "ok" && !integrity.startsWith("skipped")) {
        info.warnings = [`PRAGMA quick_check: ${integrity}`];
      }
      return info;
    },
    async write(token) {
      try {
        const d = conn();
        // One deadline for the whole phase: every step waits for locks only within what is left.
        const started = performance.now();
        const left = (): number => config.writeTimeout - (performance.now() - started);
        if (setupPending) {
          const setup = await patiently(left(), () => prepareWrites(d, table, config.createHealthTable, open.memory, open.journalMode === "wal", true));
          setupPending = false;
          if (setup !== "done") unwritable = setup;
        }
        await patiently(left(), () => statement(d, "upsert").run(config.probeId, token));
        // Rows of probers gone for longer than pruneAfter (old pod names…) are removed, so
        // the table holds the live probers only: once a minute (pruneAfter is at least a
        // minute), as the server drivers do, not on every cycle.
        if (Date.now() - lastPrune >= PRUNE_EVERY_MS) {
          lastPrune = Date.now();
          await patiently(left(), () => statement(d, "prune").run(config.probeId, `-${Math.floor(config.pruneAfter / 1000)} seconds`));
        }
      } catch (err) {
        fail(err, "write");
      }
    },
    async read() {
      try {
        const d = conn();
        return await patiently(config.readTimeout, () => statement(d, "read").get(config.probeId) as string | undefined);
      } catch (err) {
        // A read-only check of a file that never had the table still proves the file reads.
        if (open.readonly && isNoSuchTable(err)) {
          conn().prepare("SELECT count(*) FROM sqlite_schema").pluck().get();
          return undefined;
        }
        return fail(err, "read");
      }
    },
    async close() {
      const d = db;
      db = undefined;
      d?.close();
    },
    destroy() {
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

/**
 * Turns on WAL and creates the health table. A file in a directory or file system that
 * refuses writes still opens and reads, so that is returned as the reason rather than thrown;
 * so is a lock held by another connection (`"locked"`), unless `throwIfLocked`.
 */
function prepareWrites(d: Db, table: string, createTable: boolean, memory: boolean, wal: boolean, throwIfLocked = false): string {
  try {
    if (!memory && wal) d.pragma("journal_mode = WAL");
    if (createTable || memory) d.exec(SQL.create(table));
    return "done";
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? "");
    if (/^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(code)) return `${(err as Error).message} (${code})`;
    if (/^SQLITE_(BUSY|LOCKED)/.test(code) && !throwIfLocked) return "locked";
    throw err;
  }
}

/** Runs `PRAGMA quick_check` when the database is small enough that it cannot stall the probe. */
function quickCheck(d: Db, maxBytes: number): string {
  try {
    const bytes = (d.pragma("page_size", { simple: true }) as number) * (d.pragma("page_count", { simple: true }) as number);
    if (bytes > maxBytes) return `skipped (${bytes} bytes is over quick_check_max_bytes=${maxBytes})`;
    const rows = d.pragma("quick_check(5)") as Array<{ quick_check: string }>;
    return rows.map((r) => r.quick_check).join("; ");
  } catch (err) {
    // Another connection's exclusive lock: the write and read phases report it.
    if (/^SQLITE_(BUSY|LOCKED)/.test(String((err as { code?: unknown }).code))) return "skipped (database is locked)";
    throw err;
  }
}

/**
 * What the path names, before SQLite opens it: a missing file is reported as such (not as
 * SQLite's "unable to open database file"), and anything but a regular file is refused. SQLite
 * would read a FIFO or a device (and write to a disk device) as if it were a database.
 */
function checkFile(open: SqliteOpenOptions): void {
  let stats;
  try {
    // bigint: a plain stat of a FIFO would poison the process-wide array Node's realpathSync reads (see core's read-file.ts).
    stats = statSync(open.path, { bigint: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") throw new DbHealthError("connect", `cannot open the database file ${open.path}: ${code ?? "error"}`, { driver: "sqlite" });
    if (!open.fileMustExist) return;
    throw new DbHealthError(
      "connect",
      `no database file at ${open.path}: a SQLite target is opened, never created, unless its DSN says mode=rwc (file:PATH?mode=rwc)`,
      { driver: "sqlite" },
    );
  }
  if (!stats.isFile()) {
    throw new DbHealthError("connect", `${open.path} is ${fileKind(stats)}, not a regular file: point the DSN at the SQLite database file`, { driver: "sqlite" });
  }
}

function isBusy(err: unknown): boolean {
  return /^SQLITE_(BUSY|LOCKED)/.test(String((err as { code?: unknown } | undefined)?.code ?? ""));
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function isNoSuchTable(err: unknown): boolean {
  return err instanceof Error && /no such table/i.test(err.message);
}

const CODE_KINDS: Record<string, DbHealthError["kind"]> = {
  SQLITE_BUSY: "timeout",
  SQLITE_LOCKED: "timeout",
  SQLITE_READONLY: "readonly",
  SQLITE_PERM: "permission",
  SQLITE_AUTH: "permission",
  SQLITE_CANTOPEN: "connect",
  SQLITE_NOTADB: "connect",
  SQLITE_CORRUPT: "query",
  SQLITE_FULL: "query",
  SQLITE_IOERR: "query",
};

function toError(err: unknown, what: string, redact: (t: string) => string): DbHealthError {
  if (err instanceof DbHealthError) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  // Extended codes (SQLITE_READONLY_DIRECTORY, SQLITE_IOERR_WRITE) share their primary code's kind.
  const primary = typeof code === "string" ? code.split("_").slice(0, 2).join("_") : "";
  const kind = CODE_KINDS[primary] ?? (what === "connect" ? "connect" : "query");
  const message = err instanceof Error ? err.message : String(err);
  const suffix = typeof code === "string" ? ` (${code})` : "";
  return new DbHealthError(kind, redact(`${message}${suffix}`), { driver: "sqlite", cause: err });
}
