/**
 * The machine's own servers (PostgreSQL 127.0.0.1:5432 trust, MariaDB 127.0.0.1:3306 root
 * without password) as the suite's administrator, and a process's open descriptors from /proc.
 * Each query opens and ends its own connection.
 */
import { readdirSync } from "node:fs";
import mysql from "mysql2/promise";
import pg from "pg";

/** runs SQL as postgres on the machine's PostgreSQL and returns the rows */
export async function pgAdmin<T extends Record<string, unknown>>(sql: string, params: unknown[] = [], database = "postgres"): Promise<T[]> {
  const c = new pg.Client({ host: "127.0.0.1", port: 5432, user: "postgres", database });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** runs SQL as root on the machine's MariaDB and returns the rows */
export async function myAdmin(sql: string, params: unknown[] = [], database?: string): Promise<Array<Record<string, unknown>>> {
  const c = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root", ...(database ? { database } : {}) });
  try {
    return (await c.query(sql, params))[0] as Array<Record<string, unknown>>;
  } finally {
    await c.end();
  }
}

/** open file descriptors of a process */
export const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
