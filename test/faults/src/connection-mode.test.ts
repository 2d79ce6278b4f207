import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "@alfred/db-health-testkit";
import { myAdmin, pgAdmin } from "./matrix/machine.js";

// `connection: per-cycle` against the real servers: between cycles the daemon holds no
// PostgreSQL backend, no MariaDB thread and no SQLite file open; `persistent` holds exactly one
// of each per target. Sampled from the servers and /proc while the daemon runs.
const CLI = fileURLToPath(new URL("../../../apps/healthcheck/dist/cli.cjs", import.meta.url));
const NAME = `connmode_${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), "dbh-connmode-"));
const running: ChildProcess[] = [];

afterAll(async () => {
  for (const c of running) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const pgSessions = async (database: string): Promise<number> =>
  (await pgAdmin<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1", [database]))[0]!.n;
const mariaSessions = async (user: string): Promise<number> =>
  Number((await myAdmin("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?", [user]))[0]!["n"]);
const sqliteHandles = (pid: number, file: string): number =>
  readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(file);
    } catch {
      return false;
    }
  }).length;

describe("connection setting against the real servers", () => {
  for (const mode of ["per-cycle", "persistent"] as const) {
    it(`${mode}: what the daemon holds between cycles`, async () => {
      const db = `${NAME}_${mode.replace("-", "_")}`;
      try {
        await pgAdmin(`DROP DATABASE IF EXISTS ${db}`);
        await pgAdmin(`CREATE DATABASE ${db}`);
        await myAdmin(`DROP DATABASE IF EXISTS ${db}`);
        await myAdmin(`CREATE DATABASE ${db}`);
        await myAdmin("DROP USER IF EXISTS ?@'127.0.0.1'", [db]);
        await myAdmin("CREATE USER ?@'127.0.0.1'", [db]);
        await myAdmin(`GRANT ALL ON ${db}.* TO ?@'127.0.0.1'`, [db]);
        const sqlite = join(dir, `${db}.db`);
        const config = join(dir, `${db}.yaml`);
        const targets = [0, 1, 2].flatMap((i) => [
          `  - { name: pg-${i}, dsn: "postgres://postgres@127.0.0.1:5432/${db}" }`,
          `  - { name: my-${i}, dsn: "mysql://${db}@tcp(127.0.0.1:3306)/${db}" }`,
          `  - { name: sq-${i}, dsn: "file:${sqlite}?mode=rwc" }`,
        ]);
        writeFileSync(config, `defaults:\n  interval: 1s\n  connection: ${mode}\ntargets:\n${targets.join("\n")}\n`, { mode: 0o600 });
        let logs = "";
        const daemon = spawn(process.execPath, [CLI, "--config", config, "--export-prom", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
        running.push(daemon);
        daemon.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
        const base = await waitFor("the daemon's address", async () => /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(logs)?.[1], (u) => u !== undefined, 20_000);
        await waitFor("nine targets up", async () => (await fetch(`${base}/metrics`)).text(), (m) => (m.match(/^db_up\{[^}]*\} 1$/gm) ?? []).length === 9, 20_000);
        // Sample for a few intervals: the smallest and largest count of each.
        const seen = { pg: [] as number[], mariadb: [] as number[], sqlite: [] as number[] };
        const until = Date.now() + 3_500;
        while (Date.now() < until) {
          const [p, m] = await Promise.all([pgSessions(db), mariaSessions(db)]);
          seen.pg.push(p);
          seen.mariadb.push(m);
          seen.sqlite.push(sqliteHandles(daemon.pid!, sqlite));
          await new Promise((r) => setTimeout(r, 40));
        }
        const range = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];
        const summary = { pg: range(seen.pg), mariadb: range(seen.mariadb), sqlite: range(seen.sqlite), samples: seen.pg.length };
        console.log(`connection ${mode}: ${JSON.stringify(summary)} (min/max over the samples; 3 targets per engine)`);
        const metrics = await (await fetch(`${base}/metrics`)).text();
        expect((metrics.match(/^db_up\{[^}]*\} 1$/gm) ?? []).length).toBe(9);
        if (mode === "per-cycle") {
          // nothing held between cycles, never more than one per target during them
          expect(summary.pg[0]).toBe(0);
          expect(summary.mariadb[0]).toBe(0);
          expect(summary.sqlite[0]).toBe(0);
          for (const [, max] of [summary.pg, summary.mariadb]) expect(max).toBeLessThanOrEqual(3);
        } else {
          expect(summary.pg).toEqual([3, 3]);
          expect(summary.mariadb).toEqual([3, 3]);
          expect(summary.sqlite[0]).toBeGreaterThanOrEqual(3); // the file, plus -wal/-shm while open
        }
        daemon.kill("SIGTERM");
        await new Promise((resolve) => daemon.once("exit", resolve));
      } finally {
        await pgAdmin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
        await myAdmin(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
        await myAdmin("DROP USER IF EXISTS ?@'127.0.0.1'", [db]).catch(() => undefined);
      }
    }, 60_000);
  }
});
