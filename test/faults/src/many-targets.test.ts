import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "@alfred/db-health-testkit";
import { myAdmin, pgAdmin } from "./matrix/machine.js";

// A thousand targets starting together: 960 new SQLite files (synchronous work on the event
// loop: creating each file, WAL, the table) and 40 server targets on the machine's PostgreSQL
// and MariaDB. The server targets' replies must not wait behind the SQLite work past their
// deadlines: before the fix, MariaDB targets reported "role timed out after 2s" at start-up.
const CLI = fileURLToPath(new URL("../../../apps/healthcheck/dist/cli.cjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "dbh-many-"));
const TAG = `many${process.pid}`;
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  // The probers' rows in the shared test databases (default probe ids: <hostname>/<target name>).
  await pgAdmin("DELETE FROM _health_check WHERE probe_id LIKE $1", [`%/${TAG}-%`], "test").catch(() => undefined);
  await myAdmin("DELETE FROM _health_check WHERE probe_id LIKE ?", [`%/${TAG}-%`], "test").catch(() => undefined);
});

describe("a thousand targets", () => {
  it("all report up in their first cycle: synchronous SQLite work does not starve the server targets", async () => {
    const targets = [
      ...Array.from({ length: 20 }, (_, i) => ({ name: `${TAG}-pg-${i}`, dsn: "postgres://postgres@127.0.0.1:5432/test" })),
      ...Array.from({ length: 20 }, (_, i) => ({ name: `${TAG}-my-${i}`, dsn: "mysql://root@tcp(127.0.0.1:3306)/test" })),
      ...Array.from({ length: 960 }, (_, i) => ({ name: `lite-${i}`, dsn: `file:${join(dir, `t${i}.db`)}?mode=rwc` })),
    ];
    const config = join(dir, "many.json");
    writeFileSync(config, JSON.stringify({ defaults: { interval: "1m" }, targets }), { mode: 0o600 });
    const daemon = spawn(process.execPath, [CLI, "--config", config, "--export-prom", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
    let logs = "";
    daemon.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
    try {
      const statuses = await waitFor("a first status from every target", async () => logs.split("\n").filter((l) => l.includes('"msg":"status"')), (l) => l.length >= targets.length, 60_000);
      const notUp = statuses.filter((l) => !l.includes('"status":"up"')).map((l) => {
        const e = JSON.parse(l) as { target: string; status: string; reason?: string };
        return `${e.target}: ${e.status} (${e.reason})`;
      });
      expect(notUp.slice(0, 5), `${notUp.length} targets were not up in their first cycle`).toEqual([]);
    } finally {
      daemon.kill("SIGTERM");
      if (daemon.exitCode === null && daemon.signalCode === null) await new Promise((resolve) => daemon.once("exit", resolve));
    }
  }, 90_000);
});
