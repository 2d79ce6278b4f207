import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@alfred/db-health-testkit";
import { startCluster, startMariaServer, type MariaServer, type PgCluster } from "@alfred/db-health-test-servers";

// Issue 19 end to end through the built CLI: db_connections_max and
// db_tls_certificate_expiry_timestamp_seconds in a daemon's /metrics and in `--once --format
// json`, against throwaway PostgreSQL and MariaDB servers with odd connection limits and TLS
// certificates of known validity, verified with their CA. A SQLite target has neither.
const CLI = fileURLToPath(new URL("../../../apps/healthcheck/dist/cli.cjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "dbh-capacity-"));
const running: ChildProcess[] = [];
let pg: PgCluster;
let maria: MariaServer;

beforeAll(async () => {
  [pg, maria] = await Promise.all([
    startCluster({ ssl: { days: 10 }, conf: { max_connections: 37, superuser_reserved_connections: 2 } }),
    startMariaServer({ ssl: { days: 20 }, conf: { max_connections: 41 } }),
  ]);
}, 180_000);
afterAll(async () => {
  for (const c of running) c.kill("SIGKILL");
  await Promise.allSettled([pg?.destroy(), maria?.destroy()]);
  rmSync(dir, { recursive: true, force: true });
});

/** notAfter of a certificate file, in Unix seconds. */
const notAfter = (file: string): number => Date.parse(new X509Certificate(readFileSync(file)).validTo) / 1000;
const config = (): string => {
  const file = join(dir, "capacity.yaml");
  writeFileSync(
    file,
    [
      "defaults:",
      "  interval: 1s",
      "targets:",
      `  - { name: pg-tls, dsn: "${pg.dsn({ params: { sslmode: "verify-full", sslrootcert: pg.caFile! } })}" }`,
      `  - { name: maria-tls, dsn: "${maria.dsn({ params: { "ssl-mode": "VERIFY_IDENTITY", "ssl-ca": maria.caFile! } })}" }`,
      `  - { name: pg-plain, dsn: "${pg.dsn({ params: { sslmode: "disable" } })}" }`,
      `  - { name: lite, dsn: "file:${join(dir, "lite.db")}?mode=rwc" }`,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  return file;
};

describe("connection limit and certificate expiry through the CLI", () => {
  it("a daemon's /metrics has both families, per target, to the second", async () => {
    let logs = "";
    const daemon = spawn(process.execPath, [CLI, "--config", config(), "--export-prom", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
    running.push(daemon);
    daemon.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
    const base = await waitFor("the daemon's address", async () => /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(logs)?.[1], (u) => u !== undefined, 20_000);
    const text = await waitFor("four targets up", async () => (await fetch(`${base}/metrics`)).text(), (m) => (m.match(/^db_up\{[^}]*\} 1$/gm) ?? []).length === 4, 30_000);
    const lines = text.split("\n").filter((l) => /^db_(connections_max|tls_certificate_expiry_timestamp_seconds)\{/.test(l));
    console.log(lines.join("\n"));
    expect(lines.sort()).toEqual([
      `db_connections_max{db_name="mysql",db_role="primary",target="maria-tls"} 41`,
      `db_connections_max{db_name="postgres",db_role="primary",target="pg-plain"} 35`,
      `db_connections_max{db_name="postgres",db_role="primary",target="pg-tls"} 35`,
      `db_tls_certificate_expiry_timestamp_seconds{db_name="mysql",db_role="primary",target="maria-tls"} ${notAfter(maria.certFile!)}`,
      `db_tls_certificate_expiry_timestamp_seconds{db_name="postgres",db_role="primary",target="pg-tls"} ${notAfter(pg.certFile!)}`,
    ]);
    // the validity asked of the harness
    expect(Math.round((notAfter(pg.certFile!) * 1000 - Date.now()) / 86_400_000)).toBe(10);
    expect(Math.round((notAfter(maria.certFile!) * 1000 - Date.now()) / 86_400_000)).toBe(20);
    const health = (await (await fetch(`${base}/health`)).json()) as { checks: Record<string, Array<{ observedValue?: unknown }>> };
    expect(health.checks["pg-tls:certificateExpiry"]?.[0]?.observedValue).toBe(new Date(notAfter(pg.certFile!) * 1000).toISOString());
    expect(health.checks["maria-tls:connectionsMax"]?.[0]?.observedValue).toBe(41);
    daemon.kill("SIGTERM");
    await new Promise((resolve) => daemon.once("exit", resolve));
  }, 60_000);

  it("--once --format json has connectionsMax and certificateExpiresAt where they exist", () => {
    const r = spawnSync(process.execPath, [CLI, "--once", "--format", "json", "--config", config()], { encoding: "utf8", timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { targets: Array<{ target: string; connectionsMax?: number; certificateExpiresAt?: number }> };
    const by = Object.fromEntries(doc.targets.map((t) => [t.target, [t.connectionsMax, t.certificateExpiresAt]]));
    expect(by).toEqual({
      "pg-tls": [35, notAfter(pg.certFile!) * 1000],
      "maria-tls": [41, notAfter(maria.certFile!) * 1000],
      "pg-plain": [35, undefined],
      lite: [undefined, undefined],
    });
  });
});
