import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "@alfred/db-health-testkit";
import { mariadbdPath, startMariaServer, type MariaServer } from "@alfred/db-health-test-servers";
import { describeRow } from "./matrix/case.js";
import { createMatrix } from "./matrix/record.js";

// Child crash in wrapper mode: the real CLI wrapping a real postgres, a real mariadbd and an
// application on SQLite; the child is killed (or crashes) and the wrapper must exit with
// 128+signal at once, leaving no process and no listening port behind.
const CLI = fileURLToPath(new URL("../../../apps/healthcheck/dist/cli.cjs", import.meta.url));
const PG_BIN = ["/usr/lib/postgresql"].flatMap((d) => (existsSync(d) ? readdirSync(d).sort().reverse().map((v) => join(d, v, "bin")) : [])).find((b) => existsSync(join(b, "postgres")));
const asRoot = process.getuid?.() === 0;
const id = (flag: "-u" | "-g", name: string): number => Number(execFileSync("id", [flag, name]).toString());
const matrix = createMatrix("wrapper", { cli: "healthcheck --export-prom 127.0.0.1:0 --interval 300ms --dsn … -- <child>" });

let dir = "";
let maria: MariaServer | undefined;
const running: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dbh-matrix-wrap-"));
  if (!PG_BIN) throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql");
  if (asRoot) chownSync(dir, id("-u", "postgres"), id("-g", "postgres"));
  const initdb = [join(PG_BIN, "initdb"), "-D", join(dir, "pgdata"), "-U", "postgres", "--auth=trust", "-N", "--no-instructions"];
  execFileSync(asRoot ? "runuser" : initdb[0]!, asRoot ? ["-u", "postgres", "--", ...initdb] : initdb.slice(1), { stdio: "ignore", timeout: 60_000 });
  // A MariaDB data directory made by the harness, then run directly as the wrapper's child.
  maria = await startMariaServer();
  await maria.stop("clean");
}, 180_000);

afterAll(async () => {
  matrix.flush();
  for (const c of running) c.kill("SIGKILL");
  await maria?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** pids of processes whose command line contains `marker` (a data directory): what a crash could orphan */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(marker)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids.filter((p) => p !== process.pid);
}

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });

interface Wrapped {
  exporterPort: number;
  logs(): string;
  exit: Promise<{ code: number | null; at: number }>;
}

async function wrap(dsn: string, child: string[]): Promise<Wrapped> {
  const w = spawn(process.execPath, [CLI, "--export-prom", "127.0.0.1:0", "--interval", "300ms", "--dsn", dsn, "--", ...child], { stdio: ["ignore", "pipe", "pipe"] });
  running.push(w);
  let logs = "";
  w.stdout!.on("data", (b: Buffer) => (logs += b.toString()));
  w.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
  const exit = new Promise<{ code: number | null; at: number }>((resolve) => w.once("exit", (code) => resolve({ code, at: performance.now() })));
  const url = await waitFor("the exporter's address in the log", async () => /"metrics":"http:\/\/127\.0\.0\.1:(\d+)\/metrics"/.exec(logs)?.[1], (m) => m !== undefined, 20_000);
  return { exporterPort: Number(url), logs: () => logs, exit };
}

const metrics = async (port: number): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined))?.text() ?? "";

/** the pid of the wrapper's direct child running `binary` */
const childPid = (marker: string, binary: string): number =>
  processesWith(marker).find((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0")[0]!.endsWith(binary);
    } catch {
      return false;
    }
  }) ?? 0;

/** the wrapper's "child exited" log line, as `child exited: signal SIGKILL, exit code 137` */
function childExit(logs: string): string | undefined {
  for (const line of logs.split("\n")) {
    if (!line.includes('"child exited"')) continue;
    const e = JSON.parse(line) as { signal?: string | null; code?: number | null; exitCode?: number };
    return `log: child exited (${e.signal ? `signal ${e.signal}` : `code ${e.code}`}, exit code ${e.exitCode})`;
  }
  return undefined;
}

/**
 * Wraps `child`, waits until its database is exported as up, sends `signal` to it (a kill, or a
 * signal the child answers by crashing itself), and records the wrapper's exit.
 */
async function crashCase(opts: { fault: string; dsn: string; child: string[]; marker: string; binary: string; signal: NodeJS.Signals; expectCode: number; readyLine?: string }): Promise<void> {
  const w = await wrap(opts.dsn, opts.child);
  const upBefore = await waitFor("db_up 1 from the wrapped server", () => metrics(w.exporterPort), (m) => /^db_up\{[^}]*\} 1$/m.test(m), 30_000)
    .then((m) => /db_health_check_child_running\{[^}]*\} 1/.test(m))
    .catch(() => false);
  if (opts.readyLine) await waitFor("the child to say it is ready", async () => w.logs().includes(opts.readyLine!), (ok) => ok, 10_000);
  const pid = childPid(opts.marker, opts.binary);
  if (!pid) throw new Error(`no child process found for ${opts.binary}`);
  const crashedAt = performance.now();
  process.kill(pid, opts.signal);
  const { code, at } = await w.exit;
  const left: string[] = [];
  await waitFor("processes of the child to go", async () => processesWith(opts.marker).length, (n) => n === 0, 5_000).catch(() => undefined);
  const orphans = processesWith(opts.marker).length;
  if (orphans) left.push(`${orphans} process`);
  if (await listening(w.exporterPort)) left.push("exporter port still listening");
  const stack = /\n\s+at .+\(.+:\d+:\d+\)/.test(w.logs());
  const row = matrix.add({
    fault: opts.fault,
    expected: `wrapper exits ${opts.expectCode}`,
    observed: `wrapper exits ${code}`,
    detectMs: at - crashedAt,
    reason: childExit(w.logs()),
    leftBehind: left.length ? left.join(", ") : "nothing",
    note: `${upBefore ? "db_up 1 and child_running 1 exported before the crash" : "never saw db_up 1 before the crash"}${stack ? "; a stack trace was printed" : ""}`,
    pass: code === opts.expectCode && left.length === 0 && upBefore && !stack,
  });
  expect(row.pass, describeRow(row)).toBe(true);
}

describe("fault matrix: child crash in wrapper mode", () => {
  it("postgres killed", async () => {
    const port = await freePort();
    const data = join(dir, "pgdata");
    const server = [join(PG_BIN!, "postgres"), "-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"];
    const child = asRoot ? ["setpriv", `--reuid=${id("-u", "postgres")}`, `--regid=${id("-g", "postgres")}`, "--init-groups", ...server] : server;
    await crashCase({ fault: "PostgreSQL server (postgres) killed with SIGKILL", dsn: `postgres://postgres@127.0.0.1:${port}/postgres`, child, marker: data, binary: "postgres", signal: "SIGKILL", expectCode: 137 });
  }, 60_000);

  it("mariadbd killed", async () => {
    const port = await freePort();
    const base = dirname(maria!.dataDir);
    const child = [
      mariadbdPath(),
      "--no-defaults",
      ...(asRoot ? ["--user=mysql"] : []),
      `--datadir=${maria!.dataDir}`,
      `--tmpdir=${join(base, "tmp")}`,
      `--socket=${join(base, "wrapped.sock")}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      "--skip-name-resolve",
      "--innodb-buffer-pool-size=16M",
      "--innodb-log-file-size=8M",
    ];
    await crashCase({ fault: "MariaDB server (mariadbd) killed with SIGKILL", dsn: `mysql://root@127.0.0.1:${port}/test`, child, marker: maria!.dataDir, binary: "mariadbd", signal: "SIGKILL", expectCode: 137 });
  }, 60_000);

  it("application on SQLite segfaults", async () => {
    const db = join(dir, "app.db");
    // An application that uses the database and crashes with SIGSEGV when told to (SIGUSR2).
    const app = `process.on("SIGUSR2", () => process.kill(process.pid, "SIGSEGV")); console.log("app ready"); setInterval(() => {}, 1000); /* ${db} */`;
    await crashCase({ fault: "application using SQLite crashes (SIGSEGV)", dsn: `file:${db}?mode=rwc`, child: [process.execPath, "-e", app], marker: db, binary: "node", signal: "SIGUSR2", expectCode: 139, readyLine: "app ready" });
  }, 60_000);
});
