/** The shape of a parsed DSN, shared by the parser of each syntax (url.ts, ado.ts, sqlite.ts) and dsn.ts. */

/** Which syntax a DSN was written in. */
export type DsnForm = "url" | "go-mysql" | "sqlite-file" | "path" | "memory" | "ado";

/** A DSN broken into its parts. Values are decoded; the password is never in `params`. */
export interface ParsedDsn {
  /** Lower-cased scheme: postgres, postgresql, mysql, mariadb, file, sqlite, sqlite3, sqlserver, mssql or any other URL scheme; plain paths and ":memory:" give "file", ADO strings "sqlserver". */
  scheme: string;
  form: DsnForm;
  /** Percent-decoded user name. */
  user?: string;
  /** Percent-decoded (or ADO-unquoted) password. */
  password?: string;
  /** Host name or address; IPv6 without brackets ("::1"). */
  host?: string;
  port?: number;
  /** Unix socket path: mysql unix(/path), or a postgres host starting with "/". */
  socket?: string;
  /** SQL Server named instance (host\instance). */
  instance?: string;
  /** Database name; for SQLite the file path or ":memory:". */
  database?: string;
  /** Decoded query parameters or ADO pairs, keys as written, password keys removed. */
  params: Record<string, string>;
}
