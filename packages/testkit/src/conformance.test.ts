import { runConformanceSuite } from "./conformance.js";
import { countMemoryRows, dropMemoryConnections, legacyMemoryDriver, memoryDriver } from "./__fixtures__/memory-driver.js";

// A correct driver passes every check of the suite, the adapter contract included.
runConformanceSuite({
  driver: memoryDriver,
  dsn: "memory://conformance",
  unreachableDsn: "memory://down",
  readOnlyDsn: "memory://conformance?readonly=1",
  countHealthRows: async (dsn, table, probeId) => countMemoryRows(dsn, table, probeId),
  dropConnections: async ({ probeId }) => {
    if (dropMemoryConnections(probeId) === 0) throw new Error(`no connection of ${probeId} to drop`);
  },
});

// So does an adapter written by hand against the deprecated 1.0 contract that follows it.
runConformanceSuite({
  driver: legacyMemoryDriver,
  dsn: "memory://legacy",
  unreachableDsn: "memory://down",
  countHealthRows: async (dsn, table, probeId) => countMemoryRows(dsn, table, probeId),
});
