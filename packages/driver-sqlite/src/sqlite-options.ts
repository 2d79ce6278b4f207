import { DbHealthError, type ParsedDsn } from "@alfred/db-health-core";

/** How the SQLite file is opened, derived from the DSN. */
export interface SqliteOpenOptions {
  /** File path, or `:memory:`. */
  path: string;
  /** `mode=ro`: open read-only and run a read-only check. */
  readonly: boolean;
  /** Every mode but `rwc` (and memory): the file must already exist; a probe never creates it by accident. */
  fileMustExist: boolean;
  /** In-memory database (`:memory:`, `mode=memory`). */
  memory: boolean;
  /** Run `PRAGMA quick_check` on connect when the file is at most this many bytes. @default 64 MiB */
  quickCheckMaxBytes: number;
  /** `journal_mode=wal` switches a writable file to WAL; `keep` leaves the file's mode alone. @default "wal" */
  journalMode: "wal" | "keep";
}

const MODES = ["ro", "rw", "rwc", "memory"] as const;
const KNOWN_PARAMS = new Set(["mode", "cache", "quick_check_max_bytes", "journal_mode"]);
// Parameters other SQLite drivers take that make no sense here, with the reason.
const REFUSED: Record<string, string> = {
  _busy_timeout: "the probe sets busy_timeout from its phase deadlines",
  busy_timeout: "the probe sets busy_timeout from its phase deadlines",
  _timeout: "the probe sets busy_timeout from its phase deadlines",
  _journal_mode: "use journal_mode=wal or journal_mode=keep",
};

/**
 * Maps a parsed SQLite DSN onto better-sqlite3 open options. SQLite URI parameters are read
 * here instead of passing the URI through, so the same DSN means the same thing whatever
 * SQLite build is linked. `cache=shared|private` is accepted for compatibility with the
 * original design's DSN and changes nothing: the probe holds a single connection.
 *
 * @example
 * ```ts
 * sqliteOpenOptions(parseDsn("file:app.db?mode=ro")); // { path: "app.db", readonly: true, … }
 * ```
 */
export function sqliteOpenOptions(dsn: ParsedDsn): SqliteOpenOptions {
  if (dsn.password !== undefined) {
    // ?password= (or passwd, pwd, pass) would be silently ignored: SQLite has no users.
    throw new DbHealthError("config", "SQLite DSN: a password parameter is not supported (SQLite has no authentication; an encrypted database needs a driver built for it): remove it", { driver: "sqlite" });
  }
  // Without mode=rwc the file must exist: a probe that creates the database it was asked to
  // check would report a missing (or mistyped) database as up.
  const mode = dsn.params.mode ?? "rw";
  if (!(MODES as readonly string[]).includes(mode)) {
    throw new DbHealthError("config", `SQLite mode=${mode} is not supported: use mode=ro, rw, rwc or memory`, { driver: "sqlite" });
  }
  const cache = dsn.params.cache;
  if (cache !== undefined && cache !== "shared" && cache !== "private") {
    throw new DbHealthError("config", `SQLite cache=${cache} is not supported: use cache=shared or cache=private`, { driver: "sqlite" });
  }
  const problems = Object.keys(dsn.params)
    .filter((k) => !KNOWN_PARAMS.has(k))
    .map((k) => (REFUSED[k] ? `${k} is not supported: ${REFUSED[k]}` : `unknown parameter ${k}`));
  const journal = (dsn.params.journal_mode?.toLowerCase() ?? "wal") as SqliteOpenOptions["journalMode"];
  if (journal !== "wal" && journal !== "keep") problems.push(`journal_mode=${dsn.params.journal_mode} is not supported: use wal or keep`);
  if (problems.length > 0) {
    throw new DbHealthError("config", `SQLite DSN: ${problems.join("; ")} (supported: mode, cache, journal_mode, quick_check_max_bytes)`, { driver: "sqlite" });
  }
  const rawMax = dsn.params.quick_check_max_bytes;
  const quickCheckMaxBytes = rawMax === undefined ? 64 * 1024 * 1024 : Number(rawMax);
  if (!Number.isFinite(quickCheckMaxBytes) || quickCheckMaxBytes < 0) {
    throw new DbHealthError("config", `quick_check_max_bytes=${rawMax} must be a number of bytes (0 disables the check)`, { driver: "sqlite" });
  }
  const database = dsn.database ?? "";
  const memory = mode === "memory" || database === ":memory:";
  return {
    path: memory ? ":memory:" : database,
    readonly: mode === "ro",
    fileMustExist: mode === "ro" || mode === "rw",
    memory,
    quickCheckMaxBytes,
    journalMode: journal,
  };
}
