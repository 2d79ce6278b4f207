import { DbHealthError, type ParsedDsn } from "@alfred/db-health-core";

/** How the SQLite file is opened, derived from the DSN. */
export interface SqliteOpenOptions {
  /** File path, or `:memory:`. */
  path: string;
  /** `mode=ro`: open read-only and run a read-only check. */
  readonly: boolean;
  /** `mode=ro|rw`: the file must already exist. */
  fileMustExist: boolean;
  /** In-memory database (`:memory:`, `mode=memory`). */
  memory: boolean;
  /** Run `PRAGMA quick_check` on connect when the file is at most this many bytes. @default 64 MiB */
  quickCheckMaxBytes: number;
}

const MODES = ["ro", "rw", "rwc", "memory"] as const;
const KNOWN_PARAMS = new Set(["mode", "cache", "_busy_timeout", "busy_timeout", "_timeout", "quick_check_max_bytes", "immutable", "vfs", "_journal_mode", "_fk"]);

/**
 * Maps a parsed SQLite DSN onto better-sqlite3 open options. SQLite URI parameters are read
 * here instead of passing the URI through, so the same DSN means the same thing whatever
 * SQLite build is linked.
 *
 * @example
 * ```ts
 * sqliteOpenOptions(parseDsn("file:app.db?mode=ro")); // { path: "app.db", readonly: true, … }
 * ```
 */
export function sqliteOpenOptions(dsn: ParsedDsn): SqliteOpenOptions {
  const mode = dsn.params.mode ?? "rwc";
  if (!(MODES as readonly string[]).includes(mode)) {
    throw new DbHealthError("config", `SQLite mode=${mode} is not supported: use mode=ro, rw, rwc or memory`, { driver: "sqlite" });
  }
  const cache = dsn.params.cache;
  if (cache !== undefined && cache !== "shared" && cache !== "private") {
    throw new DbHealthError("config", `SQLite cache=${cache} is not supported: use cache=shared or cache=private`, { driver: "sqlite" });
  }
  const unknown = Object.keys(dsn.params).filter((k) => !KNOWN_PARAMS.has(k));
  if (unknown.length > 0) {
    throw new DbHealthError("config", `unknown SQLite DSN parameter(s): ${unknown.join(", ")}; supported: mode, cache, quick_check_max_bytes`, { driver: "sqlite" });
  }
  const rawMax = dsn.params.quick_check_max_bytes;
  const quickCheckMaxBytes = rawMax === undefined ? 64 * 1024 * 1024 : Number(rawMax);
  if (!Number.isFinite(quickCheckMaxBytes) || quickCheckMaxBytes < 0) {
    throw new DbHealthError("config", `quick_check_max_bytes=${rawMax} must be a number of bytes (0 disables the check)`, { driver: "sqlite" });
  }
  const database = dsn.database ?? "";
  const memory = mode === "memory" || database === ":memory:" || database === "";
  return {
    path: memory ? ":memory:" : database,
    readonly: mode === "ro",
    fileMustExist: mode === "ro" || mode === "rw",
    memory,
    quickCheckMaxBytes,
  };
}
