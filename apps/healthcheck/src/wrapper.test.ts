import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort, tcpProxy } from "@alfred/db-health-testkit";
import { CLI } from "./__fixtures__/cli-path.js";

// Wrapper mode end to end: the real CLI wrapping a real `postgres` server binary, as the
// original design's Dockerfile does (`healthcheck --export-prom :9091 -- postgres …`).
const PG_BIN = ["/usr/lib/postgresql"].flatMap((d) => (existsSync(d) ? readdirSync(d).sort().reverse().map((v) => join(d, v, "bin")) : [])).find((b) => existsSync(join(b, "postgres")));
const asRoot = process.getuid?.() === 0;
const uid = (name: string): number => Number(execFileSync("id", ["-u", name]).toString());
const gid = (name: string): number => Number(execFileSync("id", ["-g", name]).toString());

let dir = "";
beforeAll(() => {
  if (!PG_BIN) throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql");
  dir = mkdtempSync(join(tmpdir(), "dbh-wrap-"));
  if (asRoot) chownSync(dir, uid("postgres"), gid("postgres"));
  const initdb = [join(PG_BIN, "initdb"), "-D", join(dir, "data"), "-U", "postgres", "--auth=trust", "-N", "--no-instructions"];
  execFileSync(asRoot ? "runuser" : initdb[0]!, asRoot ? ["-u", "postgres", "--", ...initdb] : initdb.slice(1), { stdio: "ignore", timeout: 60_000 });
}, 90_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let wrapper: ChildProcess | undefined;
afterEach(() => wrapper?.kill("SIGKILL"));

/** The postgres command line, run as the postgres user without an intermediate process. */
const postgresCommand = (port: number): string[] => {
  const server = [join(PG_BIN!, "postgres"), "-D", join(dir, "data"), "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"];
  return asRoot ? ["setpriv", `--reuid=${uid("postgres")}`, `--regid=${gid("postgres")}`, "--init-groups", ...server] : server;
};

const start = async (args: string[]): Promise<{ base: string; logs: () => string; exit: Promise<number | null>; signal: Promise<NodeJS.Signals | null> }> => {
  wrapper = spawn(process.execPath, [CLI, "--export-prom", "127.0.0.1:0", "--interval", "300ms", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let logs = "";
  wrapper.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
  wrapper.stdout!.on("data", (b: Buffer) => (logs += b.toString()));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => wrapper!.once("exit", (code, sig) => resolve([code, sig])));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const m = /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(logs);
    if (m) return { base: m[1]!, logs: () => logs, exit: exited.then(([c]) => c), signal: exited.then(([, s]) => s) };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`wrapper did not start: ${logs}`);
};
const waitFor = async (url: string, ok: (status: number, body: string) => boolean, ms = 20_000): Promise<string> => {
  const deadline = Date.now() + ms;
  let last = "";
  while (Date.now() < deadline) {
    const res = await fetch(url).catch(() => undefined);
    if (res) {
      last = await res.text();
      if (ok(res.status, last)) return last;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out on ${url}: ${last}`);
};

describe("healthcheck wrapper mode", () => {
  it("runs postgres, exports its health, forwards SIGTERM, and exits with postgres's code", async () => {
    const port = await freePort();
    const w = await start(["--dsn", `postgres://postgres@127.0.0.1:${port}/postgres`, "--", ...postgresCommand(port)]);
    const metrics = await waitFor(`${w.base}/metrics`, (s, b) => s === 200 && /db_up\{[^}]*\} 1/.test(b));
    expect(metrics).toMatch(/db_health_check_child_running\{command="(setpriv|postgres)"\} 1/);
    await waitFor(`${w.base}/readyz`, (s) => s === 200);
    wrapper!.kill("SIGTERM");
    expect(await w.exit).toBe(0);
    expect(w.logs()).toMatch(/forwarding SIGTERM to the child/);
    expect(w.logs()).toMatch(/database system is shut down/);
  }, 60_000);

  it("does not count the image's temporary init server (unix socket only) as ready", async () => {
    const port = await freePort();
    // What docker-entrypoint.sh does on a first start: a temporary server on the unix socket only
    // (listen_addresses=''), stopped once the init scripts are done (here: once the test has
    // looked, by creating `marker`), then the real one on TCP.
    const server = postgresCommand(port);
    const init = server.map((a) => (a === "listen_addresses=127.0.0.1" ? "listen_addresses=" : a));
    const marker = join(dir, "init-done");
    const abort = join(dir, "init-abort");
    const q = (args: string[]): string => args.map((a) => `'${a}'`).join(" ");
    const script =
      `${q(init)} & pid=$!; while [ ! -e '${marker}' ] && [ ! -e '${abort}' ]; do sleep 0.1; done; kill -INT $pid; wait $pid; ` +
      `[ -e '${abort}' ] && exit 1; exec ${q(server)}`;
    let passed = false;
    try {
      const w = await start(["--dsn", `postgres://postgres@127.0.0.1:${port}/postgres`, "--", "sh", "-c", script]);
      const socketAnswers = async (): Promise<boolean> => {
        const r = spawn(join(PG_BIN!, "pg_isready"), ["-q", "-h", dir, "-p", String(port)]);
        return (await new Promise<number | null>((resolve) => r.once("exit", resolve))) === 0;
      };
      const deadline = Date.now() + 20_000;
      while (!(await socketAnswers()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      // the init server answers on its socket (the real one cannot have started: no marker yet)
      expect(await socketAnswers()).toBe(true);
      await new Promise((r) => setTimeout(r, 700)); // a probe cycle or two (interval 300ms)
      const during = await fetch(`${w.base}/readyz`);
      expect(during.status).toBe(503);
      expect(await during.text()).toMatch(/the database port does not accept TCP connections yet|down: connect failed/);
      writeFileSync(marker, "");
      await waitFor(`${w.base}/readyz`, (s) => s === 200);
      wrapper!.kill("SIGTERM");
      expect(await w.exit).toBe(0);
      passed = true;
    } finally {
      if (!passed) {
        // The wrapper is SIGKILLed after the test, and the script's postgres would outlive it on
        // our data dir: tell the script to stop its init server and not start the real one, then
        // stop whatever still runs there.
        writeFileSync(abort, "");
        await new Promise((r) => setTimeout(r, 1000));
        const stop = [join(PG_BIN!, "pg_ctl"), "-D", join(dir, "data"), "stop", "-m", "immediate", "-w"];
        spawnSync(asRoot ? "runuser" : stop[0]!, asRoot ? ["-u", "postgres", "--", ...stop] : stop.slice(1), { stdio: "ignore", timeout: 30_000 });
      }
      rmSync(marker, { force: true });
      rmSync(abort, { force: true });
    }
  }, 60_000);

  it("goes on probing after a stop signal the child survives, each cycle on a connection of its own", async () => {
    // mariadbd ignores SIGINT: the database runs on, and must be reported as it is (here: stopped
    // later, behind a proxy). Probing used to end at the signal, leaving db_up 1 for good.
    const proxy = await tcpProxy({ to: 5432 });
    try {
      const w = await start(["--dsn", `postgres://postgres@127.0.0.1:${proxy.port}/postgres`, "--", "sh", "-c", 'trap "" INT; sleep 30']);
      await waitFor(`${w.base}/readyz`, (s) => s === 200);
      wrapper!.kill("SIGINT");
      await waitFor(`${w.base}/readyz`, (s, b) => s === 503 && b.includes("stopping"));
      // The connection it held is let go, and the cycles go on with connections of their own.
      const deadline = Date.now() + 10_000;
      while (proxy.open() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const accepted = proxy.accepted();
      while (proxy.accepted() < accepted + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(proxy.accepted()).toBeGreaterThanOrEqual(accepted + 2);
      expect(w.logs()).toMatch(/"reason":"SIGINT forwarded to the child","msg":"letting go of the connections while the child stops/);
      await proxy.close();
      await waitFor(`${w.base}/probe?target=postgres`, (s, b) => s === 200 && /^db_up\{[^}]*\} 0$/m.test(b), 10_000);
      wrapper!.kill("SIGTERM");
      expect(await w.exit).toBe(143);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it("is not ready while the database port does not accept TCP, and exits 128+9 when the child is killed", async () => {
    const port = await freePort();
    // a child that never opens the port: readiness must stay 503 although the process runs
    const w = await start(["--dsn", `postgres://postgres@127.0.0.1:${port}/postgres`, "--max-retries", "0", "--", "sleep", "30"]);
    const ready = await fetch(`${w.base}/readyz`);
    expect(ready.status).toBe(503);
    const metrics = await waitFor(`${w.base}/metrics`, (s, b) => /db_health_check_child_running\{command="sleep"\} 1/.test(b));
    expect(metrics).toMatch(/db_up\{[^}]*\} 0|db_health_check_child_running/);
    const pid = Number(/"pid":(\d+)/.exec(w.logs())![1]);
    process.kill(pid, "SIGKILL");
    expect(await w.exit).toBe(137);
  }, 60_000);

  it("exits with the child's code soon after it ends, even when a client library keeps a socket open", async () => {
    const plugin = fileURLToPath(new URL("./__fixtures__/hang-driver.mjs", import.meta.url));
    const w = await start(["--plugin", plugin, "--dsn", "hang://db/x?close=linger", "--connect-timeout", "30s", "--", "sh", "-c", "sleep 1; exit 3"]);
    const t0 = Date.now();
    expect(await w.exit).toBe(3);
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(w.logs()).toMatch(/"msg":"stopped"/);
  }, 30_000);

  it("does not start the child when the metrics port cannot be bound (exit 3)", async () => {
    const { createServer } = await import("node:net");
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    const marker = join(dir, "child-ran");
    const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const c = spawn(process.execPath, [CLI, "--export-prom", `127.0.0.1:${port}`, "--dsn", ":memory:", "--", "sh", "-c", `touch ${marker}`], { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      c.stderr.on("data", (b: Buffer) => (err += b.toString()));
      c.once("exit", (code) => resolve({ code, err }));
    });
    taken.close();
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/cannot listen for --export-prom: .*EADDRINUSE/);
    expect(existsSync(marker)).toBe(false);
  }, 30_000);

  it("passes the child's exit code through and reports a command that cannot start", async () => {
    let w = await start(["--dsn", ":memory:", "--", "sh", "-c", "sleep 0.5; exit 7"]);
    expect(await w.exit).toBe(7);
    // a command that cannot start: the wrapper may end before it even logs where it serves
    const child = spawn(process.execPath, [CLI, "--export-prom", "127.0.0.1:0", "--dsn", ":memory:", "--", "/nonexistent/command"], { stdio: ["ignore", "pipe", "pipe"] });
    let logs = "";
    child.stderr.on("data", (b: Buffer) => (logs += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(127);
    expect(logs).toMatch(/cannot start the child/);
    expect(logs).not.toMatch(/child started/);
  }, 60_000);
});
