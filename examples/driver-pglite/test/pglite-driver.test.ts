import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createDriver, isDbHealthError, parseDsn } from "@alfred/db-health-core";
import { pgliteDriver, withPglite } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "dbh-pglite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const configError = (dsn: string): string => {
  try {
    pgliteDriver.validate!(parseDsn(dsn));
  } catch (err) {
    if (isDbHealthError(err) && err.kind === "config") return err.message;
    throw err;
  }
  throw new Error(`${dsn} was accepted`);
};

describe("pglite DSNs", () => {
  it("accepts a data directory and memory, and says what is wrong with anything else", () => {
    expect(() => pgliteDriver.validate!(parseDsn("pglite:///var/lib/app/pgdata"))).not.toThrow();
    expect(() => pgliteDriver.validate!(parseDsn("pglite://memory"))).not.toThrow();
    expect(configError("pglite://db.example:5432/app")).toBe(
      'PGlite DSN: PGlite has no port: remove it; host "db.example" is not supported: use pglite:///absolute/data/dir or pglite://memory',
    );
    expect(configError("pglite://app:Sekr1t-pw@memory")).toBe("PGlite DSN: PGlite has no users: remove the user and password");
    expect(configError("pglite:///data?sslmode=require")).toBe("PGlite DSN: unknown parameter sslmode");
  });
});

describe("pglite data directories", () => {
  it("keeps the health row across restarts of the instance", async () => {
    const dsn = `pglite://${dir}/restart`;
    const driver = createDriver({ dsn, connectTimeout: "60s", probeId: "restart-test" });
    expect((await driver.probe()).status).toBe("up");
    await driver.close();
    // The last reference is gone, so this opens the directory afresh.
    const rows = await withPglite(dsn, async (db) => (await db.query<{ probe_id: string }>("SELECT probe_id FROM _health_check")).rows);
    expect(rows).toEqual([{ probe_id: "restart-test" }]);
  });

  it("reports a directory PGlite cannot create as down, with the reason", async () => {
    const r = await createDriver({ dsn: "pglite:///dev/null/pgdata", maxRetries: 0 }).probe();
    expect(r.status).toBe("down");
    expect(r.reason).toMatch(/ENOTDIR/);
  });
});

describe("the healthcheck CLI", () => {
  it("loads the plugin with --plugin and probes a pglite target", async () => {
    const cli = join(dirname(createRequire(import.meta.url).resolve("@alfred/healthcheck/package.json")), "dist/cli.cjs");
    const plugin = fileURLToPath(new URL("../dist/index.js", import.meta.url));
    const args = [cli, "--plugin", plugin, "--dsn", "pglite://memory", "--connect-timeout", "60s", "--once", "--format", "json"];
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, args, { timeout: 120_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { targets: Array<{ name: string; driver: string; status: string }> };
    expect(report.targets).toMatchObject([{ driver: "pglite", status: "up" }]);
  });
});
