/**
 * `@alfred/db-health-testkit`: the conformance suite every db-health driver runs under vitest.
 *
 * @example
 * ```ts
 * import { runConformanceSuite } from "@alfred/db-health-testkit";
 * import { myDriver } from "../src/index.js";
 *
 * runConformanceSuite({
 *   driver: myDriver,
 *   dsn: "mydb://127.0.0.1/test",
 *   unreachableDsn: "mydb://127.0.0.1:1/test",
 *   countHealthRows: (dsn, table) => countRowsWithMyClient(dsn, table),
 * });
 * ```
 */
export { runConformanceSuite } from "./conformance.js";
export { checkAdapterContract } from "./adapter-contract.js";
export { checkPruning } from "./pruning.js";
export { wrapDefinition, type AdapterSpy } from "./adapter-wrappers.js";
export { resolveDsn, type CheckConformanceOptions, type ConformanceOptions, type DsnSource } from "./options.js";
export { blackholeServer, freePort, openFds, refusedPort, tcpProxy, type BlackholeServer, type TcpProxy } from "./net-faults.js";
export { privateHosts, type PrivateHosts } from "./private-hosts.js";
export { waitFor, within } from "./wait.js";
export { testDrivers, type TestDriverOptions, type TestDrivers } from "./test-drivers.js";
