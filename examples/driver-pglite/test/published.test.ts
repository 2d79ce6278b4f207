/**
 * The published artefacts without the monorepo around them: `pnpm pack` core, testkit, the CLI
 * and this plugin, `npm install` the tarballs into a temporary directory outside the workspace
 * (third-party dependencies such as PGlite and vitest come from the npm registry), then do what
 * a third party does: run `healthcheck --plugin db-health-driver-pglite --once`, and run the
 * conformance suite from a test file that imports only published package names.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PACKED = ["packages/core", "packages/testkit", "apps/healthcheck", "examples/driver-pglite"];
const INSTALL_TIMEOUT_MS = 180_000;

const dir = mkdtempSync(join(tmpdir(), "dbh-published-"));
const tarballs = join(dir, "tarballs");
const app = join(dir, "app");
const log = (text: string): void => console.log(`[published] ${text}`);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
const run = (command: string, args: string[], cwd: string, timeout: number): Promise<Run> =>
  new Promise((resolve) => {
    const env = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };
    execFile(command, args, { cwd, timeout, env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr: err && code === 1 && !stderr ? String(err.message) : stderr });
    });
  });
const ok = async (command: string, args: string[], cwd: string, timeout = 60_000, quiet = false): Promise<Run> => {
  const started = Date.now();
  const r = await run(command, args, cwd, timeout);
  if (!quiet) log(`${command} ${args.join(" ")}: exit ${r.code} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (r.code !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${r.code}):\n${r.stderr}\n${r.stdout}`.slice(0, 4000));
  return r;
};

beforeAll(async () => {
  mkdirSync(tarballs);
  mkdirSync(app);
  for (const pkg of PACKED) await ok("pnpm", ["pack", "--pack-destination", tarballs], join(ROOT, pkg));
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "third-party-app", private: true, type: "module" }, null, 2));
  const files = readdirSync(tarballs).map((f) => join(tarballs, f));
  // Third-party dependencies come from the registry: say so in one line when it is unreachable.
  const registry = (await run("npm", ["config", "get", "registry"], app, 10_000)).stdout.trim() || "https://registry.npmjs.org/";
  const ping = await run("npm", ["ping", "--registry", registry], app, 20_000);
  if (ping.code !== 0) throw new Error(`the npm registry ${registry} is unreachable (npm ping exit ${ping.code}); this test installs PGlite and vitest from it`);
  log(`npm install of ${files.length} tarballs, PGlite and vitest from the registry (at most ${INSTALL_TIMEOUT_MS / 1000} s)`);
  await ok("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...files, "vitest@4.1.12"], app, INSTALL_TIMEOUT_MS);
}, INSTALL_TIMEOUT_MS + 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("published packages", { timeout: 180_000 }, () => {
  it("ship dist with types, and pnpm pack rewrote every workspace: range", async () => {
    for (const file of readdirSync(tarballs)) {
      const listing = (await ok("tar", ["-tzf", join(tarballs, file)], dir, 10_000, true)).stdout.split("\n");
      expect(listing, file).toEqual(expect.arrayContaining(["package/package.json", "package/dist/index.js", "package/dist/index.d.ts"]));
      expect(listing.filter((f) => f.startsWith("package/src/")), file).toEqual([]);
      const manifest = (await ok("tar", ["-xzOf", join(tarballs, file), "package/package.json"], dir, 10_000, true)).stdout;
      expect(manifest, file).not.toContain("workspace:");
    }
    const installed = JSON.parse(readFileSync(join(app, "node_modules/db-health-driver-pglite/package.json"), "utf8")) as { peerDependencies: Record<string, string> };
    expect(installed.peerDependencies["@alfred/db-health-core"]).toMatch(/^\^\d+\.\d+\.\d+$/);
  });

  it("healthcheck --plugin db-health-driver-pglite --once probes a pglite target", async () => {
    const args = ["--plugin", "db-health-driver-pglite", "--dsn", "pglite://memory", "--connect-timeout", "60s", "--once", "--format", "json"];
    const r = await ok(join(app, "node_modules/.bin/healthcheck"), args, app, 120_000);
    const report = JSON.parse(r.stdout) as { targets: Array<{ driver: string; status: string }> };
    expect(report.targets).toMatchObject([{ driver: "pglite", status: "up" }]);
  });

  it("runs the conformance suite from a test file that imports only published package names", async () => {
    writeFileSync(
      join(app, "conformance.test.js"),
      `import { runConformanceSuite } from "@alfred/db-health-testkit";
import { pgliteDriver, withPglite } from "db-health-driver-pglite";

runConformanceSuite({
  driver: pgliteDriver,
  dsn: ${JSON.stringify(`pglite://${join(dir, "pgdata")}`)},
  unreachableDsn: "pglite:///dev/null/pgdata",
  config: { connectTimeout: "60s" },
  checks: {
    exec: (dsn, sql) => withPglite(dsn, async (db) => (await db.query(sql, [], { rowMode: "array" })).rows[0]?.[0]),
  },
  countHealthRows: (dsn, table, probeId) =>
    withPglite(dsn, async (db) => (await db.query('SELECT count(*)::int AS n FROM "' + table + '" WHERE probe_id = $1', [probeId])).rows[0].n),
});
`,
    );
    const report = join(dir, "conformance.json");
    await ok(join(app, "node_modules/.bin/vitest"), ["run", "--reporter=json", `--outputFile=${report}`], app, 170_000);
    const result = JSON.parse(readFileSync(report, "utf8")) as { numPassedTests: number; numFailedTests: number };
    log(`conformance outside the workspace: ${result.numPassedTests} passed, ${result.numFailedTests} failed`);
    expect(result.numFailedTests).toBe(0);
    expect(result.numPassedTests).toBeGreaterThanOrEqual(10);
  });
});
