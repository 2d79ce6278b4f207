import Database from "better-sqlite3";
import { DbHealthError, type AdapterTarget, type DriverAdapter, type RoleInfo } from "@alfred/db-health-core";
import { sqliteOpenOptions, type SqliteOpenOptions } from "./sqlite-options.js";

type Db = InstanceType<typeof Database>;

/**
 * The SQLite adapter on better-sqlite3. SQLite is synchronous: a statement blocks the event
 * loop until it returns, so no timer can interrupt it. Every statement therefore runs with
 * `busy_timeout` set just under the phase deadline, which bounds the longest a lock can hold
 * the process.
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
  let integrity: string | undefined;
  // Why a file that opened cannot be written (read-only directory or file system), if so.
  let unwritable: string | undefined;

  const fail = (err: unknown, what: string): never => {
    throw toError(err, what, target.redact);
  };
  const conn = (): Db => {
    if (!db?.open) throw new DbHealthError("connect", "not connected", { driver: "sqlite" });
    return db;
  };
  // Leaves a margin so SQLite's own "database is locked" arrives before core's deadline.
  const bound = (d: Db, deadlineMs: number): void => {
    d.pragma(`busy_timeout = ${Math.max(0, Math.floor(deadlineMs * 0.9))}`);
  };

  return {
    async connect() {
      let opened: Db | undefined;
      try {
        opened = new Database(open.path, { readonly: open.readonly, fileMustExist: open.fileMustExist, timeout: 0 });
        bound(opened, config.connectTimeout);
        integrity = quickCheck(opened, open.quickCheckMaxBytes);
        unwritable = open.readonly ? undefined : prepareWrites(opened, table, config.createHealthTable, open.memory);
        db = opened;
      } catch (err) {
        opened?.close();
        fail(err, "connect");
      }
    },
    async ping() {
      try {
        const d = conn();
        bound(d, config.readTimeout);
        d.prepare("SELECT 1").pluck().get();
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
        bound(d, config.writeTimeout);
        d.prepare(
          `INSERT INTO ${table} (probe_id, token, checked_at) VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
           ON CONFLICT (probe_id) DO UPDATE SET token = excluded.token, checked_at = excluded.checked_at`,
        ).run(config.probeId, token);
      } catch (err) {
        fail(err, "write");
      }
    },
    async read() {
      try {
        const d = conn();
        bound(d, config.readTimeout);
        return d.prepare(`SELECT token FROM ${table} WHERE probe_id = ?`).pluck().get(config.probeId) as string | undefined;
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
 * refuses writes still opens and reads, so that is reported (returned) rather than thrown.
 */
function prepareWrites(d: Db, table: string, createTable: boolean, memory: boolean): string | undefined {
  try {
    if (!memory) d.pragma("journal_mode = WAL");
    if (createTable || memory) {
      d.exec(`CREATE TABLE IF NOT EXISTS ${table} (probe_id TEXT PRIMARY KEY NOT NULL, token TEXT NOT NULL, checked_at TEXT NOT NULL)`);
    }
    return undefined;
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? "");
    if (/^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(code)) return `${(err as Error).message} (${code})`;
    throw err;
  }
}

/** Runs `PRAGMA quick_check` when the database is small enough that it cannot stall the probe. */
function quickCheck(d: Db, maxBytes: number): string {
  const pageSize = d.pragma("page_size", { simple: true }) as number;
  const pages = d.pragma("page_count", { simple: true }) as number;
  const bytes = pageSize * pages;
  if (bytes > maxBytes) return `skipped (${bytes} bytes is over quick_check_max_bytes=${maxBytes})`;
  const rows = d.pragma("quick_check(5)") as Array<{ quick_check: string }>;
  return rows.map((r) => r.quick_check).join("; ");
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
