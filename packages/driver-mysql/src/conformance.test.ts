import { afterAll, beforeAll } from "vitest";
import mysql from "mysql2/promise";
import { runConformanceSuite } from "@alfred/db-health-testkit";
import { mysqlDriver } from "./definition.js";
import { refusedPort } from "@alfred/db-health-testkit";

// The machine's MariaDB (root, empty password). A wrong password for root is refused there.
const LOCAL = process.env.DB_HEALTH_MYSQL_DSN ?? "mysql://root@tcp(127.0.0.1:3306)/test";
const admin = (): Promise<mysql.Connection> => mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root", database: "test" });

// The lost-connection check logs in as a user of its own: without performance_schema, the user
// is what tells its threads apart on the shared server, so that only they are killed.
const LOST_USER = `dbh_lost_${process.pid}`;
beforeAll(async () => {
  const c = await admin();
  try {
    await c.query(`DROP USER IF EXISTS '${LOST_USER}'@'127.0.0.1'`);
    await c.query(`CREATE USER '${LOST_USER}'@'127.0.0.1'`);
    await c.query(`GRANT SELECT, INSERT, UPDATE, DELETE, CREATE ON test.* TO '${LOST_USER}'@'127.0.0.1'`);
  } finally {
    await c.end();
  }
});
afterAll(async () => {
  const c = await admin();
  try {
    await c.query(`DROP USER IF EXISTS '${LOST_USER}'@'127.0.0.1'`);
  } finally {
    await c.end();
  }
});

runConformanceSuite({
  driver: mysqlDriver,
  dsn: LOCAL,
  unreachableDsn: async () => `mysql://root@tcp(127.0.0.1:${await refusedPort()})/test`,
  badCredentialsDsn: "mysql://root:Wr0ng-S3cret-pw@tcp(127.0.0.1:3306)/test",
  badCredentialsSecret: "Wr0ng-S3cret-pw",
  lostConnectionDsn: `mysql://${LOST_USER}@tcp(127.0.0.1:3306)/test`,
  dropConnections: async () => {
    const c = await admin();
    try {
      const [rows] = await c.query("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?", [LOST_USER]);
      const ids = (rows as Array<{ ID: number }>).map((r) => r.ID);
      if (ids.length === 0) throw new Error(`no thread of ${LOST_USER} to kill`);
      for (const id of ids) await c.query("KILL CONNECTION ?", [id]);
    } finally {
      await c.end();
    }
  },
  // Custom checks: the scratch table through mysql2 itself; statements that commit implicitly
  // (OPTIMIZE, REPAIR) or change the session (SET autocommit) must fail too.
  checks: {
    exec: async (_dsn, sql) => {
      const c = await admin();
      try {
        const [rows] = await c.query({ sql, rowsAsArray: true });
        return Array.isArray(rows) ? (rows as unknown[][])[0]?.[0] : undefined;
      } finally {
        await c.end();
      }
    },
    sleep: (seconds) => `SELECT SLEEP(${seconds})`,
    writes: ["DELETE FROM {table} RETURNING n", "REPLACE INTO {table} (n) VALUES (6)", "OPTIMIZE TABLE {table}", "REPAIR TABLE {table}", "SELECT n FROM {table} FOR UPDATE", "SET autocommit = 0", "SET SESSION tx_read_only = 0"],
  },
  countHealthRows: async (_dsn, table, probeId) => {
    const c = await admin();
    try {
      const [rows] = await c.query(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE probe_id = ?`, [probeId]);
      return Number((rows as Array<{ n: number }>)[0]!.n);
    } finally {
      await c.end();
    }
  },
});
