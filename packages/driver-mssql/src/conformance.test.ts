import { afterAll, beforeAll, describe, it } from "vitest";
import { runConformanceSuite } from "@alfred/db-health-testkit";
import { mssqlDriver } from "./definition.js";

// SQL Server cannot run on this machine and there is no Docker engine here. Where an engine
// exists, testcontainers starts mcr.microsoft.com/mssql/server and the whole conformance suite
// runs against it; where none does, one skipped test and one printed line say so.
const IMAGE = process.env.DB_HEALTH_MSSQL_IMAGE ?? "mcr.microsoft.com/mssql/server:2022-latest";
const SA_PASSWORD = "Conformance-Pw1!";
const tc = await import("testcontainers");
const noRuntime = await tc.getContainerRuntimeClient().then(
  () => undefined,
  (err: unknown) => (err as Error).message,
);

if (noRuntime) {
  console.log(`SQL Server conformance suite skipped: no container runtime here (${noRuntime}); it runs against ${IMAGE} wherever Docker is available`);
  describe.skip(`conformance: mssql (needs Docker for ${IMAGE})`, () => {
    it("runs the testkit conformance suite against a real SQL Server", () => undefined);
  });
} else {
  let container: Awaited<ReturnType<InstanceType<typeof tc.GenericContainer>["start"]>> | undefined;
  let dsn = "";
  beforeAll(async () => {
    container = await new tc.GenericContainer(IMAGE)
      .withEnvironment({ ACCEPT_EULA: "Y", MSSQL_SA_PASSWORD: SA_PASSWORD })
      .withExposedPorts(1433)
      .withWaitStrategy(tc.Wait.forLogMessage(/SQL Server is now ready for client connections/))
      .withStartupTimeout(180_000)
      .start();
    dsn = `sqlserver://sa:${encodeURIComponent(SA_PASSWORD)}@${container.getHost()}:${container.getMappedPort(1433)}/master?trustServerCertificate=true`;
  }, 240_000);
  afterAll(async () => {
    await container?.stop();
  });
  runConformanceSuite({
    driver: mssqlDriver,
    dsn: () => dsn,
    unreachableDsn: "sqlserver://sa@127.0.0.1:1/master",
    badCredentialsDsn: () => dsn.replace(encodeURIComponent(SA_PASSWORD), "Wrong-Pw-123!"),
    badCredentialsSecret: "Wrong-Pw-123!",
    // Custom checks: the scratch table through mssql itself; T-SQL's WAITFOR is no SELECT, so
    // the slow query is a large cross join (the driver cancels it at the check's timeout).
    checks: {
      exec: async (target, sql) => {
        const mssql = ((await import("mssql")) as unknown as { default: typeof import("mssql") }).default;
        const { parseDsn } = await import("@alfred/db-health-core");
        const p = parseDsn(target);
        const pool = await new mssql.ConnectionPool({ server: p.host!, port: p.port!, user: p.user!, password: p.password!, database: p.database!, options: { trustServerCertificate: true } }).connect();
        try {
          const request = pool.request();
          request.arrayRowMode = true;
          return ((await request.query(sql)).recordset as unknown as unknown[][] | undefined)?.[0]?.[0];
        } finally {
          await pool.close();
        }
      },
      sleep: () => "SELECT COUNT_BIG(*) FROM sys.all_objects AS a CROSS JOIN sys.all_objects AS b CROSS JOIN sys.all_objects AS c",
      writes: ["SELECT n INTO dbo.roq_copy FROM dbo.{table}", "MERGE dbo.{table} AS t USING (SELECT 1 AS n) AS s ON t.n = s.n WHEN MATCHED THEN DELETE;", "DELETE FROM dbo.{table} OUTPUT deleted.n", "EXEC sp_rename 'dbo.{table}', 'roq_renamed'"],
    },
    countHealthRows: async (target, table, probeId) => {
      const mssql = ((await import("mssql")) as unknown as { default: typeof import("mssql") }).default;
      const { parseDsn } = await import("@alfred/db-health-core");
      const p = parseDsn(target);
      const pool = await new mssql.ConnectionPool({
        server: p.host!,
        port: p.port!,
        user: p.user!,
        password: p.password!,
        database: p.database!,
        options: { trustServerCertificate: true },
      }).connect();
      try {
        const r = await pool.request().input("id", mssql.NVarChar(128), probeId).query(`SELECT COUNT(*) AS n FROM dbo.[${table}] WHERE probe_id = @id`);
        return Number(r.recordset[0]?.n);
      } finally {
        await pool.close();
      }
    },
    testTimeout: 120_000,
  });
}
