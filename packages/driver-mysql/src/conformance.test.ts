import mysql from "mysql2/promise";
import { runConformanceSuite } from "@alfred/db-health-testkit";
import { mysqlDriver } from "./definition.js";
import { refusedPort } from "@alfred/db-health-testkit";

// The machine's MariaDB (root, empty password). A wrong password for root is refused there.
const LOCAL = process.env.DB_HEALTH_MYSQL_DSN ?? "mysql://root@tcp(127.0.0.1:3306)/test";

runConformanceSuite({
  driver: mysqlDriver,
  dsn: LOCAL,
  unreachableDsn: async () => `mysql://root@tcp(127.0.0.1:${await refusedPort()})/test`,
  badCredentialsDsn: "mysql://root:Wr0ng-S3cret-pw@tcp(127.0.0.1:3306)/test",
  badCredentialsSecret: "Wr0ng-S3cret-pw",
  countHealthRows: async (_dsn, table, probeId) => {
    const c = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root", database: "test" });
    try {
      const [rows] = await c.query(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE probe_id = ?`, [probeId]);
      return Number((rows as Array<{ n: number }>)[0]!.n);
    } finally {
      await c.end();
    }
  },
});
