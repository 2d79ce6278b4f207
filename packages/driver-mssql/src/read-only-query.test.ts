import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedactor, dsnSecrets, parseDsn, resolveTargetConfig, withDeadline, type DriverAdapter } from "@alfred/db-health-core";
import { fakeTdsServer, type FakeTdsAnswer, type FakeTdsMessage, type FakeTdsServer } from "./__fixtures__/fake-tds.js";
import { mssqlDriver } from "./definition.js";
import { CHECK_SQL, statementTypes } from "./read-only-query.js";

// No SQL Server runs here: a loopback server that speaks TDS answers as SQL Server would with
// SHOWPLAN_XML on (a plan the test writes) and otherwise with one INT result set, or not at all.
// What is proven is what the driver sends, in which order, and what it does with the answers;
// how a real SQL Server plans a statement is not (the conformance suite runs against one where
// Docker is available).
const plan = (...types: string[]): string =>
  `<ShowPlanXML xmlns="http://schemas.microsoft.com/sqlserver/2004/07/showplan"><BatchSequence><Batch><Statements>${types
    .map((t, i) => `<StmtSimple StatementText="stmt ${i}" StatementId="${i + 1}" StatementType="${t}" />`)
    .join("")}</Statements></Batch></BatchSequence></ShowPlanXML>`;
/** Check texts the fake knows: how it plans each, and whether it answers the run. */
const CHECKS: Record<string, { plan: string; run?: FakeTdsAnswer }> = {
  "SELECT 42": { plan: plan("SELECT"), run: { columns: [{ name: "", type: "int" }], rows: [[42]] } },
  "SELECT count(*) FROM sys.objects WHERE 1 = 0": { plan: plan("SELECT"), run: { columns: [{ name: "", type: "int" }], rows: [] } },
  "INSERT INTO dbo.t VALUES (1)": { plan: plan("INSERT") },
  "SELECT 1 SELECT 2": { plan: plan("SELECT", "SELECT") },
  "SELECT n INTO dbo.copy FROM dbo.t": { plan: plan("SELECT INTO") },
  "SELECT slow FROM dbo.big": { plan: plan("SELECT"), run: "silent" },
};
let showplan = false;
const answer = (m: FakeTdsMessage): FakeTdsAnswer | undefined => {
  if (m.kind !== "batch") return undefined;
  if (m.text === CHECK_SQL.planOn || m.text === CHECK_SQL.planOff) {
    showplan = m.text === CHECK_SQL.planOn;
    return undefined;
  }
  const check = Object.entries(CHECKS).find(([sql]) => m.text === sql || m.text === CHECK_SQL.run(sql))?.[1];
  if (!check) return undefined;
  if (showplan) return { columns: [{ name: "Microsoft SQL Server 2005 XML Showplan", type: "nvarchar" }], rows: [[check.plan]] };
  return check.run;
};

let tds: FakeTdsServer;
beforeAll(async () => {
  tds = await fakeTdsServer("accept", "not-supported", answer);
});
afterAll(async () => {
  await tds?.close();
});
const adapters: DriverAdapter[] = [];
afterEach(async () => {
  await Promise.allSettled(adapters.splice(0).map((a) => a.close()));
});
const open = async (): Promise<DriverAdapter> => {
  const dsn = `sqlserver://sa:Not-The-Password1@127.0.0.1:${tds.port}/master?encrypt=false`;
  const config = resolveTargetConfig({ dsn, probeId: "roq", connectTimeout: "5s", readTimeout: "5s", writeTimeout: "5s" } as never);
  const adapter = mssqlDriver.createAdapter({ config, dsn: parseDsn(dsn), redact: createRedactor(dsnSecrets(dsn)), connectionLost: () => undefined });
  adapters.push(adapter);
  await adapter.connect(AbortSignal.timeout(5000));
  return adapter;
};
const check = (a: DriverAdapter, sql: string, ms = 3000): Promise<unknown> => withDeadline(ms, (s) => a.check!(sql, s, ms), { what: "check", onTimeout: () => a.destroy?.() });
/** The batches and attentions sent for one check (mssql's pool also validates its connection with an RPC at each request). */
const sentFor = async (a: DriverAdapter, sql: string, ms?: number): Promise<{ outcome: unknown; sent: string[] }> => {
  const from = tds.messages.length;
  const outcome = await check(a, sql, ms).catch((err: unknown) => err);
  return { outcome, sent: tds.messages.slice(from).flatMap((m) => (m.kind === "batch" ? [m.text] : m.kind === "attention" ? ["attention"] : [])) };
};

describe("mssql readOnlyQuery against a fake TDS server", () => {
  it("plans the check with SHOWPLAN_XML, then runs it in a transaction that is always rolled back", async () => {
    const a = await open();
    const { outcome, sent } = await sentFor(a, "SELECT 42");
    expect(outcome).toBe(42);
    expect(sent).toEqual([CHECK_SQL.planOn, "SELECT 42", CHECK_SQL.planOff, "BEGIN TRANSACTION;\nSELECT 42", "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION"]);
    expect(await check(a, "SELECT count(*) FROM sys.objects WHERE 1 = 0"), "no row: undefined").toBeUndefined();
  });

  it("refuses, unrun, what SQL Server plans as anything but one SELECT", async () => {
    const a = await open();
    for (const [sql, why] of [
      ["INSERT INTO dbo.t VALUES (1)", "a check must be one query (SELECT …): SQL Server plans it as INSERT, so it was not run"],
      ["SELECT n INTO dbo.copy FROM dbo.t", "a check must be one query (SELECT …): SQL Server plans it as SELECT INTO, so it was not run"],
      ["SELECT 1 SELECT 2", "a check runs one statement only: SQL Server plans 2 (SELECT, SELECT), so it was not run"],
    ] as const) {
      const { outcome, sent } = await sentFor(a, sql);
      expect(outcome).toMatchObject({ kind: "query", message: why });
      expect(sent, "showplan off again, and nothing run").toEqual([CHECK_SQL.planOn, sql, CHECK_SQL.planOff]);
    }
    expect(a.connected?.()).toBe(true);
  });

  it("cancels a check before its deadline (attention), rolls back, and keeps the connection", async () => {
    const a = await open();
    const { outcome, sent } = await sentFor(a, "SELECT slow FROM dbo.big", 800);
    expect(outcome, "cancelled by the driver (ECANCEL) before core's deadline").toMatchObject({ kind: "timeout", message: expect.stringMatching(/^the check ran past its timeout: cancelled after \d+ ms$/) });
    expect(sent).toEqual([CHECK_SQL.planOn, "SELECT slow FROM dbo.big", CHECK_SQL.planOff, "BEGIN TRANSACTION;\nSELECT slow FROM dbo.big", "attention", CHECK_SQL.end]);
    expect(a.connected?.()).toBe(true);
    expect(await check(a, "SELECT 42")).toBe(42);
  });
});

describe("statementTypes", () => {
  it("reads every statement element of a showplan, nested ones too, and fails closed on one without a type", () => {
    expect(statementTypes(plan("SELECT"))).toEqual(["SELECT"]);
    expect(statementTypes('<StmtCond StatementType="COND"><Then><Statements><StmtSimple StatementType="DELETE"/></Statements></Then></StmtCond>')).toEqual(["COND", "DELETE"]);
    expect(statementTypes('<StmtSimple StatementText="SELECT &quot; StatementType=&quot;SELECT" StatementType="INSERT" />')).toEqual(["INSERT"]);
    expect(statementTypes("<StmtUseDb Database=\"[x]\" />")).toEqual(["?"]);
    expect(statementTypes("")).toEqual([]);
  });
});
