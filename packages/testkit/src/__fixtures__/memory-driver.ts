/**
 * Drivers whose "database" is a Map in this process, for testing the testkit itself: a correct
 * driver must pass the whole suite, and `brokenMemoryDriver` breaks one rule at a time.
 * `memoryDriver` is written as a dialect (core runs the health-table protocol); `legacyMemoryDriver`
 * is an adapter written by hand against the deprecated 1.0 contract, pruning included, to prove
 * such plugins still work and pass the suite.
 */
import { DbHealthError, PRUNE_EVERY_MS, TOKEN_HISTORY_LENGTH, defineDriver, type DriverAdapter, type DriverDefinition } from "@alfred/db-health-core";

interface Row {
  token: string;
  at: number;
}
/** Tables per database name (the DSN's host), then rows per prober. */
export const databases = new Map<string, Map<string, Map<string, Row>>>();
/** The open connections per probe id, each as the function that drops it from the "server". */
const open = new Map<string, Set<() => void>>();

/** Drops every connection of this probe id as a server would; returns how many it dropped. */
export function dropMemoryConnections(probeId: string): number {
  const drops = [...(open.get(probeId) ?? [])];
  for (const drop of drops) drop();
  return drops.length;
}

/** The rows of one prober of `table` in the database a DSN names: 0 or 1. */
export function countMemoryRows(dsn: string, table: string, probeId: string): number {
  return databases.get(new URL(dsn).host)?.get(table)?.has(probeId) ? 1 : 0;
}

const failure = (code: string, message: string): Error => Object.assign(new Error(message), { code });
const upsert = (rows: Map<string, Row>, probeId: string, token: string): void => {
  const stored = rows.get(probeId)?.token;
  rows.set(probeId, { token: (stored === undefined ? token : `${token} ${stored}`).slice(0, TOKEN_HISTORY_LENGTH), at: Date.now() });
};
const prune = (rows: Map<string, Row>, probeId: string, olderThanMs: number): void => {
  for (const [id, row] of rows) if (id !== probeId && row.at < Date.now() - olderThanMs) rows.delete(id);
};

/** `memory://name` (`?readonly=1`: a database that refuses writes). */
export const memoryDriver: DriverDefinition = defineDriver({
  name: "memory",
  packageName: "db-health-driver-memory",
  schemes: ["memory"],
  capabilities: { server: false, authentication: false, connectionCount: true },
  createDialect({ config, dsn, lost }) {
    let db: Map<string, Map<string, Row>> | undefined;
    const readOnly = dsn.params.readonly === "1";
    const conns = open.get(config.probeId) ?? new Set();
    open.set(config.probeId, conns);
    const drop = (): void => {
      conns.delete(drop);
      db = undefined;
      lost(new Error("connection closed by the memory server"));
    };
    const conn = (): Map<string, Map<string, Row>> => db ?? (() => { throw new DbHealthError("connect", "not connected", { driver: "memory" }); })();
    const table = (): Map<string, Row> => conn().get(config.healthTable) ?? (() => { throw failure("NO_TABLE", `no table ${config.healthTable}`); })();
    const writable = (): void => {
      if (readOnly) throw failure("READ_ONLY", "the database is read-only");
    };
    return {
      driver: "memory",
      table: config.healthTable,
      async connect() {
        if (dsn.host === "down") throw new Error("connect ECONNREFUSED memory://down");
        db = databases.get(dsn.host ?? "") ?? new Map();
        databases.set(dsn.host ?? "", db);
        conns.add(drop);
      },
      ping: async () => void conn(),
      role: async () => (conn() && readOnly ? { role: "primary", readOnly: true, detail: "readonly=1" } : { role: "primary", readOnly: false }),
      inspect: async () => ({ exists: conn().has(config.healthTable) }),
      createTable: async () => void (writable(), conn().set(config.healthTable, new Map())),
      upsert: async (probeId, token) => void (writable(), upsert(table(), probeId, token)),
      select: async (probeId) => table().get(probeId)?.token,
      prune: async (probeId, seconds) => prune(table(), probeId, seconds * 1000),
      catalogRead: async () => void conn(),
      connections: async () => (conn(), 1),
      classifyError: (err) => {
        const code = (err as { code?: string }).code;
        return { ...(code === "READ_ONLY" ? { kind: "readonly" as const } : {}), tableMissing: code === "NO_TABLE" };
      },
      connected: () => db !== undefined,
      async close() {
        conns.delete(drop);
        db = undefined;
      },
    };
  },
});

/** The same database through an adapter written by hand (the deprecated 1.0 contract): it creates and prunes itself. */
export const legacyMemoryDriver: DriverDefinition = {
  name: "memory-legacy",
  packageName: "db-health-driver-memory-legacy",
  schemes: ["memory"],
  capabilities: { server: false, authentication: false },
  createAdapter({ config, dsn }): DriverAdapter {
    let rows: Map<string, Row> | undefined;
    let lastPrune = 0;
    const conn = (): Map<string, Row> => rows ?? (() => { throw new DbHealthError("connect", "not connected", { driver: "memory-legacy" }); })();
    return {
      async connect() {
        if (dsn.host === "down") throw new DbHealthError("connect", "connect ECONNREFUSED memory://down", { driver: "memory-legacy" });
        const db = databases.get(dsn.host ?? "") ?? new Map<string, Map<string, Row>>();
        databases.set(dsn.host ?? "", db);
        rows = db.get(config.healthTable) ?? new Map();
        db.set(config.healthTable, rows);
      },
      ping: async () => void conn(),
      role: async () => (conn(), { role: "primary", readOnly: false }),
      async write(token) {
        upsert(conn(), config.probeId, token);
        if (Date.now() - lastPrune < PRUNE_EVERY_MS) return;
        lastPrune = Date.now();
        prune(conn(), config.probeId, config.pruneAfter);
      },
      read: async () => conn().get(config.probeId)?.token,
      connected: () => rows !== undefined,
      async close() {
        rows = undefined;
      },
    };
  },
};

/** The memory driver with some adapter methods replaced. */
export function brokenMemoryDriver(override: (real: DriverAdapter) => Record<string, unknown>): DriverDefinition {
  return {
    ...memoryDriver,
    createAdapter(target) {
      const real = memoryDriver.createAdapter(target);
      return { ...real, ...override(real) } as DriverAdapter;
    },
  };
}
