// Probes each DSN given as an argument once with the built driver and prints one JSON line per
// DSN, { status, reason }: for tests that run a probe in another process (a private /etc/hosts).
import { createDriver } from "@alfred/db-health-core";
import { mysqlDriver } from "../../dist/definition.js";

for (const dsn of process.argv.slice(2)) {
  const driver = createDriver({ dsn, maxRetries: 0, probeId: `fixture-${process.pid}` }, { definition: mysqlDriver });
  const r = await driver.probe();
  await driver.close();
  console.log(JSON.stringify({ status: r.status, reason: r.reason }));
}
