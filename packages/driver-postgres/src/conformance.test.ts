import { afterAll, beforeAll } from "vitest";
import pg from "pg";
import { runConformanceSuite } from "@alfred/db-health-testkit";
import { postgresDriver } from "./definition.js";
import { refusedPort } from "@alfred/db-health-testkit";
import { startCluster, type PgCluster } from "@alfred/db-health-test-servers";
import { appName } from "./__fixtures__/app-name.js";

// The machine's PostgreSQL (trust auth) for everything but bad credentials, which need a
// server that checks passwords: a throwaway cluster with a SCRAM user.
const LOCAL = process.env.DB_HEALTH_PG_DSN ?? "postgres://postgres@127.0.0.1:5432/test";
const SECRET = "Conf0rmance-pw!";
// A sequence the check cases must not advance (nextval/setval in a read-only transaction).
const SEQUENCE = `_health_check_seq_${process.pid}`;
let cluster: PgCluster | undefined;
beforeAll(async () => {
  cluster = await startCluster({ users: [{ name: "app", password: SECRET }] });
  await onLocal(`CREATE SEQUENCE IF NOT EXISTS ${SEQUENCE}`);
}, 120_000);
afterAll(async () => {
  await onLocal(`DROP SEQUENCE IF EXISTS ${SEQUENCE}`);
  await cluster?.destroy();
});
async function onLocal(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: LOCAL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

runConformanceSuite({
  driver: postgresDriver,
  dsn: LOCAL,
  unreachableDsn: async () => `postgres://postgres@127.0.0.1:${await refusedPort()}/test`,
  badCredentialsDsn: () => cluster!.dsn({ user: "app", password: "wrong-but-secret-pw" }),
  badCredentialsSecret: "wrong-but-secret-pw",
  // The same database with every transaction read-only: a read-only primary, degraded.
  readOnlyDsn: `${LOCAL}${LOCAL.includes("?") ? "&" : "?"}options=${encodeURIComponent("-c default_transaction_read_only=on")}`,
  // The machine's server is shared: only the backends of the suite's prober, found by the
  // application_name the driver gives its connection.
  dropConnections: async ({ dsn, probeId }) => {
    const client = new pg.Client({ connectionString: dsn });
    await client.connect();
    try {
      const { rows } = await client.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()", [appName(probeId)]);
      if (rows.length === 0) throw new Error(`no backend with application_name ${appName(probeId)}`);
      await client.query("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", [rows.map((r) => r.pid)]);
    } finally {
      await client.end();
    }
  },
  // Custom checks: the scratch table through pg itself; nextval() and a writing CTE must fail too.
  checks: {
    exec: async (dsn, sql) => {
      const client = new pg.Client({ connectionString: dsn });
      await client.connect();
      try {
        return (await client.query<unknown[]>({ text: sql, rowMode: "array" })).rows[0]?.[0];
      } finally {
        await client.end();
      }
    },
    sleep: (seconds) => `SELECT pg_sleep(${seconds})`,
    writes: [`SELECT nextval('${SEQUENCE}')`, `SELECT setval('${SEQUENCE}', 5)`, "WITH d AS (DELETE FROM {table} RETURNING n) SELECT count(*) FROM d", "CREATE TEMP TABLE x AS SELECT 1", "SELECT n FROM {table} FOR UPDATE"],
  },
  countHealthRows: async (dsn, table, probeId) => {
    const client = new pg.Client({ connectionString: dsn });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}" WHERE probe_id = $1`, [probeId]);
      return rows[0]!.n;
    } finally {
      await client.end();
    }
  },
});
