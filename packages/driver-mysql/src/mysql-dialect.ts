import { serverLimits, type RoleInfo, type TargetConfig } from "@alfred/db-health-core";
import { SQL } from "./sql.js";

/** The server family: MySQL and MariaDB name a few variables, columns and statements differently. */
export type Dialect = "mysql" | "mariadb";

/**
 * The dialect from `VERSION()`. MariaDB names itself in every version string, MySQL never does;
 * the number is not read, so the `5.5.5-10.11.6-MariaDB` MariaDB's handshake shows old clients is
 * not taken for MySQL 5.5.
 *
 * @example
 * ```ts
 * dialectOf("10.11.19-MariaDB-0+deb12u1"); // "mariadb"
 * dialectOf("8.0.36"); // "mysql"
 * ```
 */
export function dialectOf(version: unknown): Dialect {
  return /mariadb/i.test(String(version)) ? "mariadb" : "mysql";
}

/**
 * The statement (and its values) that sets a session's server-side limits from core's
 * `serverLimits`, so a locked server answers with its reason instead of costing us the connection:
 * statements at 90 % of the longer deadline (`max_statement_time` in seconds on MariaDB,
 * `max_execution_time` in whole milliseconds on MySQL, where it bounds SELECT only), and lock waits
 * (`innodb_lock_wait_timeout`, `lock_wait_timeout`) at 80 % of the write deadline in whole seconds,
 * at least 1. A read blocked longer than `readTimeout` meets our deadline instead: KILL QUERY and a
 * new connection.
 *
 * @example
 * ```ts
 * sessionLimits("mariadb", { readTimeout: 2000, writeTimeout: 2000 }); // { sql: SQL.limitsMariaDb, values: [1.8, 1, 1] }
 * ```
 */
export function sessionLimits(dialect: Dialect, timeouts: Pick<TargetConfig, "readTimeout" | "writeTimeout">): { sql: string; values: [number, number, number] } {
  const { statementMs, lockMs } = serverLimits(timeouts);
  const lockWait = Math.max(1, Math.floor(lockMs / 1000));
  return dialect === "mariadb"
    ? { sql: SQL.limitsMariaDb, values: [statementMs / 1000, lockWait, lockWait] }
    : { sql: SQL.limitsMySql, values: [Math.round(statementMs), lockWait, lockWait] };
}

/**
 * What a failed replica-status statement means, from the server's error number: `slave-spelling`
 * when `SHOW REPLICA STATUS` is a syntax error (1064: before MySQL 8.0.22 / MariaDB 10.5.1) and the
 * `SHOW SLAVE STATUS` spelling is worth a try; `not-allowed` without REPLICATION CLIENT / SLAVE
 * MONITOR (1227, 1142), when read_only alone must judge the role; `error` otherwise.
 *
 * @example
 * ```ts
 * replicaStatusFallback(SQL.replicaStatus, 1064); // "slave-spelling"
 * ```
 */
export function replicaStatusFallback(statement: string, errno: number | undefined): "slave-spelling" | "not-allowed" | "error" {
  if (errno === 1064 && statement === SQL.replicaStatus) return "slave-spelling";
  if (errno === 1227 || errno === 1142) return "not-allowed";
  return "error";
}

/**
 * A replica's lag in seconds: the heartbeat age when a heartbeat row exists, else the status row's
 * `Seconds_Behind_Source` (MySQL 8.0.22+) or `Seconds_Behind_Master`; `undefined` when neither is
 * known (NULL while the SQL thread is stopped). Never negative (clock skew).
 *
 * @example
 * ```ts
 * replicaLag(undefined, { Seconds_Behind_Master: "0" }); // 0
 * ```
 */
export function replicaLag(heartbeat: number | undefined, status: Record<string, unknown> | undefined): number | undefined {
  const behind = status?.Seconds_Behind_Source ?? status?.Seconds_Behind_Master;
  const lag = heartbeat ?? (behind === null || behind === undefined || behind === "" ? undefined : Number(behind));
  return lag !== undefined && Number.isFinite(lag) ? Math.max(0, lag) : undefined;
}

/**
 * The role a node's read-only flags give when it reports no replica status: a writable primary,
 * or a read-only one with the flag that makes it so.
 *
 * @example
 * ```ts
 * primaryRole({ read_only: 1, super_read_only: 0, tx_read_only: 0 }); // { role: "primary", readOnly: true, detail: "read_only=ON" }
 * ```
 */
export function primaryRole(flags: Record<string, unknown> | undefined): RoleInfo {
  const on = (name: string): boolean => Number(flags?.[name]) === 1;
  if (!on("read_only") && !on("super_read_only") && !on("tx_read_only")) return { role: "primary", readOnly: false };
  return { role: "primary", readOnly: true, detail: on("super_read_only") ? "super_read_only=ON" : on("read_only") ? "read_only=ON" : "transaction_read_only=ON" };
}

/**
 * A replica's role from its status row: lag from the heartbeat (else the status row, see
 * {@link replicaLag}), and a warning when a replication thread is not running.
 *
 * @example
 * ```ts
 * replicaRole({ Replica_IO_Running: "Yes", Replica_SQL_Running: "No" }, 0.2, []); // { role: "replica", readOnly: true, lagSeconds: 0.2, warnings: ["replication is not running …"] }
 * ```
 */
export function replicaRole(status: Record<string, unknown> | undefined, heartbeat: number | undefined, warnings: string[]): RoleInfo {
  const info: RoleInfo = { role: "replica", readOnly: true };
  const lag = replicaLag(heartbeat, status);
  if (lag !== undefined) info.lagSeconds = lag;
  const io = status?.Replica_IO_Running ?? status?.Slave_IO_Running;
  const sqlThread = status?.Replica_SQL_Running ?? status?.Slave_SQL_Running;
  if (io !== "Yes" || sqlThread !== "Yes") warnings.push(`replication is not running (IO thread: ${String(io)}, SQL thread: ${String(sqlThread)})`);
  if (warnings.length > 0) info.warnings = warnings;
  return info;
}
