/**
 * A driver whose "database" is a Map in this process, for testing the testkit itself: a correct
 * adapter must pass the whole suite, and `brokenMemoryDriver` breaks one rule at a time.
 */
import { DbHealthError, TOKEN_HISTORY_LENGTH, type DriverAdapter, type DriverDefinition } from "@alfred/db-health-core";

/** Rows per database name (the DSN's host), then per prober. */
export const databases = new Map<string, Map<string, string>>();
/** The open connections per probe id, each as the function that drops it from the "server". */
const open = new Map<string, Set<() => void>>();

/** Drops every connection of this probe id as a server would; returns how many it dropped. */
export function dropMemoryConnections(probeId: string): number {
  const drops = [...(open.get(probeId) ?? [])];
  for (const drop of drops) drop();
  return drops.length;
}

export const memoryDriver: DriverDefinition = {
  name: "memory",
  packageName: "db-health-driver-memory",
  schemes: ["memory"],
  capabilities: { server: false, authentication: false, connectionCount: true },
  createAdapter({ config, dsn, connectionLost }): DriverAdapter {
    let rows: Map<string, string> | undefined;
    const conns = open.get(config.probeId) ?? new Set();
    open.set(config.probeId, conns);
    const drop = (): void => {
      conns.delete(drop);
      rows = undefined;
      connectionLost?.("connection closed by the memory server");
    };
    const conn = (): Map<string, string> => rows ?? (() => { throw new DbHealthError("connect", "not connected", { driver: "memory" }); })();
    return {
      async connect() {
        if (dsn.host === "down") throw new DbHealthError("connect", "connect ECONNREFUSED memory://down", { driver: "memory" });
        rows = databases.get(dsn.host ?? "") ?? new Map();
        databases.set(dsn.host ?? "", rows);
        conns.add(drop);
      },
      async ping() {
        conn();
      },
      async role() {
        conn();
        return { role: "primary", readOnly: false };
      },
      async write(token) {
        const stored = conn().get(config.probeId);
        conn().set(config.probeId, (stored === undefined ? token : `${token} ${stored}`).slice(0, TOKEN_HISTORY_LENGTH));
      },
      async read() {
        return conn().get(config.probeId);
      },
      async connections() {
        conn();
        return 1;
      },
      connected: () => rows !== undefined,
      async close() {
        conns.delete(drop);
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
