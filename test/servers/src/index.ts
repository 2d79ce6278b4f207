/**
 * `@alfred/db-health-test-servers`: throwaway PostgreSQL and MariaDB servers on 127.0.0.1 for
 * db-health's driver tests, fault matrix, image tests and benchmarks (private, never published).
 *
 * Both engines share one lifecycle: a temp directory per server (removed by destroy()), a free
 * loopback port, the server as our own child process with its output in one log (quoted in every
 * error), bounded start/stop, SIGSTOP/SIGCONT for hung-server tests, optional self-signed TLS,
 * replicas, and an exit hook that takes every server down when the test process dies. Built to
 * plain JavaScript, so `node bench/*.mjs` can import it as well as vitest.
 *
 * @example
 * ```ts
 * import { startCluster, startMariaServer } from "@alfred/db-health-test-servers";
 *
 * const pg = await startCluster({ ssl: { days: 10 } }); // pg.certFile expires in 10 days
 * const replica = await pg.createReplica();
 * pg.pause(); // hung: TCP handshakes complete, nothing answers
 * pg.resume();
 * await Promise.all([replica.destroy(), pg.destroy()]);
 * ```
 */
export type { DsnOptions, TestServer, TlsOptions } from "./types.js";
export { freePort } from "./ports.js";
export { pgBinDir, startCluster, type PgCluster, type PgClusterOptions, type PgStopMode, type PgUser } from "./postgres.js";
export { mariadbdPath, startMariaServer, type MariaServer, type MariaServerOptions, type MariaStopMode, type MariaUser } from "./mariadb.js";
