import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { myAdmin, pgAdmin } from "./matrix/machine.js";

// Probers sharing one probe id write to one health-table row: three daemons given the same
// --probe-id, and a --once beside them (a daemon and a --once on one host share the default
// <hostname>/<target>). Before the row kept the latest tokens, a prober reading back right after
// another one wrote saw a token not its own and reported `degraded` several times a minute.
const CLI = fileURLToPath(new URL("../../../apps/healthcheck/dist/cli.cjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "dbh-shared-id-"));
const PROBE_ID = `shared-${process.pid}`;
const WINDOW_MS = Number(process.env["DB_HEALTH_SHARED_ID_MS"] ?? 30_000);
const TARGETS = [
  ["--name", "pg", "--dsn", "postgres://postgres@127.0.0.1:5432/test"],
  ["--name", "mariadb", "--dsn", "mysql://root@tcp(127.0.0.1:3306)/test"],
  ["--name", "sqlite", "--dsn", `file:${join(dir, "shared.db")}?mode=rwc`],
].flat();

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await pgAdmin("DELETE FROM _health_check WHERE probe_id = $1", [PROBE_ID], "test").catch(() => undefined);
  await myAdmin("DELETE FROM _health_check WHERE probe_id = ?", [PROBE_ID], "test").catch(() => undefined);
});

function run(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

describe("probers sharing a probe id", () => {
  it(`three daemons at 100 ms and a --once loop, ${WINDOW_MS / 1000} s on PostgreSQL, MariaDB and SQLite: never a false degraded`, async () => {
    const common = ["--probe-id", PROBE_ID, ...TARGETS];
    const daemons = [1, 2, 3].map(() => run([...common, "--interval", "100ms", "--export-prom", "127.0.0.1:0", "--log-level", "debug"]));
    const onces: string[] = [];
    let cycles = 0;
    const until = Date.now() + WINDOW_MS;
    try {
      while (Date.now() < until) {
        const once = run(["--once", ...common]);
        const code = await once.exited;
        cycles++;
        if (code !== 0) onces.push(`exit ${code}: ${once.output()}`);
      }
    } finally {
      for (const d of daemons) d.child.kill("SIGTERM");
    }
    const codes = await Promise.all(daemons.map((d) => d.exited));
    const logs = daemons.map((d) => d.output()).join("\n");
    const probes = logs.split("\n").filter((l) => /"msg":"(probe|status)"/.test(l));
    const notUp = probes.filter((l) => !l.includes('"status":"up"'));
    console.log(`shared probe id: ${probes.length} daemon cycles, ${cycles} --once runs (${cycles * 3} cycles) in ${WINDOW_MS / 1000} s; not up: ${notUp.length + onces.length}`);
    expect(codes).toEqual([0, 0, 0]);
    expect(notUp.slice(0, 3)).toEqual([]);
    expect(onces.slice(0, 3)).toEqual([]);
    // The daemons really probed at 100 ms side by side (3 daemons × 3 targets × ~10/s).
    expect(probes.length).toBeGreaterThan((WINDOW_MS / 1000) * 3 * 3 * 3);
    expect(cycles).toBeGreaterThan(5);
  }, WINDOW_MS + 60_000);
});
