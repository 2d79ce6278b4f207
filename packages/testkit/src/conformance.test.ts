import { runConformanceSuite } from "./conformance.js";
import { databases, dropMemoryConnections, memoryDriver } from "./__fixtures__/memory-driver.js";

// A correct driver passes every check of the suite, the adapter contract included.
runConformanceSuite({
  driver: memoryDriver,
  dsn: "memory://conformance",
  unreachableDsn: "memory://down",
  countHealthRows: async (dsn, _table, probeId) => (databases.get(new URL(dsn).host)?.has(probeId) ? 1 : 0),
  dropConnections: async ({ probeId }) => {
    if (dropMemoryConnections(probeId) === 0) throw new Error(`no connection of ${probeId} to drop`);
  },
});
