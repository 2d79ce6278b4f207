import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { createDriver, createRedactor, describeDsn, parseDsn, redact, redactDsn, resolveTargetConfig } from "@alfred/db-health-core";
import { refusedPort } from "@alfred/db-health-testkit";
import { mssqlDriver } from "./definition.js";
import { mssqlSettings, validateMssqlDsn } from "./mssql-options.js";

const settings = (dsn: string, over: Record<string, unknown> = {}) =>
  mssqlSettings(parseDsn(dsn), resolveTargetConfig({ dsn, probeId: "host-1/orders", ...over }), "1.2.3");

describe("mssql settings", () => {
  it("reads every DSN form", () => {
    expect(settings("sqlserver://sa:pw@db:1433/app").pool).toMatchObject({ server: "db", port: 1433, user: "sa", password: "pw", database: "app" });
    expect(settings("sqlserver://sa:pw@db:1433?database=app").pool).toMatchObject({ database: "app" });
    expect(settings("mssql://sa:pw@db/app").pool).toMatchObject({ server: "db", port: 1433 });
    const named = settings("sqlserver://sa:pw@db%5CSQLEXPRESS/app").pool;
    expect(named.options?.instanceName).toBe("SQLEXPRESS");
    expect(named.port).toBeUndefined();
    expect(settings("Server=tcp:db.example,1433;Database=app;User Id=sa;Password={p;ss};Encrypt=true;TrustServerCertificate=True;").pool).toMatchObject({
      server: "db.example",
      port: 1433,
      user: "sa",
      password: "p;ss",
      database: "app",
      options: { encrypt: true, trustServerCertificate: true },
    });
    expect(settings("Data Source=host\\inst;Initial Catalog=app;User ID=sa;Pwd=x").pool).toMatchObject({ server: "host", options: { instanceName: "inst" } });
  });

  it("pools exactly one connection per target, in every DSN form, kept as it is by mssql", async () => {
    const pools = [
      "sqlserver://sa:pw@db:1433/app",
      "mssql://sa:pw@db%5CSQLEXPRESS/app",
      "Server=tcp:db,1433;Database=app;User Id=sa;Password=pw;",
      "Data Source=db\\inst;Initial Catalog=app;UID=sa;Pwd=pw",
    ].map((dsn) => settings(dsn).pool);
    for (const pool of pools) expect(pool.pool).toEqual({ max: 1, min: 0, idleTimeoutMillis: 2_147_483_647 });
    // An ADO `Max Pool Size` cannot widen it: the driver rejects keys it does not honour.
    expect(() => settings("Server=db;Database=app;Max Pool Size=10")).toThrow("unknown parameter Max Pool Size");
    // mssql builds its tarn pool as Object.assign({ max: 10, min: 0, … }, config.pool): the
    // config it keeps must still say max 1 (its constructor clones the config).
    const mssql = ((await import("mssql")) as unknown as { default: typeof import("mssql") }).default;
    for (const pool of pools) expect((new mssql.ConnectionPool(pool) as unknown as { config: typeof pool }).config.pool).toMatchObject({ max: 1, min: 0 });
  });

  it("encrypts by default, takes encrypt/trustServerCertificate, and names the probe", () => {
    expect(settings("sqlserver://sa@db/app").pool.options).toMatchObject({ encrypt: true, trustServerCertificate: false, appName: "db-health/1.2.3 host-1/orders" });
    expect(settings("sqlserver://sa@db/app?encrypt=false").pool.options?.encrypt).toBe(false);
    expect(settings("sqlserver://sa@db/app?encrypt=strict").pool.options?.encrypt).toBe("strict");
  });

  it("sets the request timeout under the deadlines and takes the ADO Connect Timeout as an upper bound", () => {
    expect(settings("sqlserver://sa@db/app", { readTimeout: "1s", writeTimeout: "3s" }).pool.requestTimeout).toBe(2700);
    expect(createDriver({ dsn: "Server=db;Database=app;Connect Timeout=2;", connectTimeout: "5s" }, { definition: mssqlDriver }).config.connectTimeout).toBe(2000);
  });

  it("keeps the health table in dbo unless a schema is set", () => {
    expect(settings("sqlserver://sa@db/app").table).toBe("[dbo].[_health_check]");
    expect(settings("sqlserver://sa@db/app", { schema: "ops" }).objectName).toBe("ops._health_check");
  });

  it("rejects what it cannot honour, every problem at once", () => {
    expect(() => validateMssqlDsn(parseDsn("sqlserver://sa@db/app?encrypt=perhaps&MultipleActiveResultSets=true&connectTimeout=soon"))).toThrow(
      "SQL Server DSN: unknown parameter MultipleActiveResultSets; encrypt=perhaps must be true or false; connect timeout=soon must be a whole number of seconds",
    );
  });
});

describe("mssql redaction", () => {
  const SECRET = "Sup3r;S3cret@pw";
  const forms = [
    `sqlserver://sa:${encodeURIComponent(SECRET)}@127.0.0.1:PORT/master`,
    `mssql://sa:${encodeURIComponent(SECRET)}@127.0.0.1:PORT/master`,
    `sqlserver://sa:${encodeURIComponent(SECRET)}@127.0.0.1:PORT?database=master`,
    `Server=127.0.0.1,PORT;Database=master;User Id=sa;Password={${SECRET.replace(/}/g, "}}")}};`,
    `Data Source=127.0.0.1,PORT;Initial Catalog=master;User ID=sa;Pwd={${SECRET}};Encrypt=false`,
  ];

  it("never shows the password in labels, errors, results or printed causes, in any form", async () => {
    const port = await refusedPort();
    for (const form of forms) {
      const dsn = form.replace("PORT", String(port));
      expect(redactDsn(dsn)).not.toContain(SECRET);
      expect(describeDsn(dsn)).not.toContain("Sup3r");
      expect(redact(`tedious said: ${dsn}`)).not.toContain(SECRET);
      const d = createDriver({ dsn, maxRetries: 0 }, { definition: mssqlDriver });
      const r = await d.probe();
      expect(r.status).toBe("down");
      const thrown = await d.connect().catch((e: unknown) => inspect(e, { depth: 10 }));
      for (const out of [JSON.stringify(r), String(thrown), inspect(r)]) {
        expect(out).not.toContain(SECRET);
        expect(out).not.toContain(encodeURIComponent(SECRET));
      }
      await d.close();
    }
  });
});
