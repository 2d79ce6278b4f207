import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { blackholeServer, waitFor, type BlackholeServer } from "@alfred/db-health-testkit";
import { fdCount } from "./matrix/machine.js";

// Hostile clients against the real built CLI (a SQLite target, loopback only): idle sockets
// held by a client that reopens each one closed, a storm of wrong passwords under basic auth,
// and a stop signal forwarded to a wrapped child that ignores it.
const CLI = fileURLToPath(new URL("../../../apps/healthcheck/dist/cli.cjs", import.meta.url));
// docs/tls.md's example hash, cost 10, of "s3cret".
const HASH = "$2b$10$pkljyat7BJfB3FzOQ7XTa.1YepPQ7n2Yn9d0rzHnvgjkm/86I.eMC";
const dir = mkdtempSync(join(tmpdir(), "dbh-abuse-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Cli {
  process: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  base: string;
  port: number;
  logs(): string;
}
const running: Cli[] = [];
afterEach(async () => {
  for (const cli of running.splice(0)) {
    if (cli.process.exitCode === null && cli.process.signalCode === null) cli.process.kill("SIGKILL");
    await cli.exited;
  }
});

async function startCli(args: string[]): Promise<Cli> {
  const child = spawn(process.execPath, [CLI, "--export-prom", "127.0.0.1:0", "--dsn", `file:${join(dir, `${running.length}.db`)}?mode=rwc`, "--name", "app", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let logs = "";
  child.stdout!.on("data", (b: Buffer) => (logs += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const cli = { process: child, exited, base: "", port: 0, logs: () => logs };
  running.push(cli);
  cli.base = (await waitFor("the CLI's address", async () => /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(logs)?.[1], (m) => m !== undefined, 20_000))!;
  cli.port = Number(new URL(cli.base).port);
  return cli;
}

/** One GET on a fresh connection (never a pooled one), from `from`: its status, or the error code. */
function getOnce(port: number, path: string, headers: Record<string, string> = {}, from?: string): Promise<{ status: number | string; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, headers, agent: false, timeout: 5_000, ...(from ? { localAddress: from } : {}) }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ status: e.code ?? e.message, body: "" }));
    req.end();
  });
}

/** CPU seconds per thread of a process, from /proc (Linux): the main thread's id is the pid. */
function threadCpu(pid: number): { main: number; all: number } {
  const ticks = (task: string): number => {
    // fields after the ")" of the command name: state is the 3rd field, utime the 14th, stime the 15th
    const fields = readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8").split(") ")[1]!.split(" ");
    return Number(fields[11]) + Number(fields[12]);
  };
  const tasks = readdirSync(`/proc/${pid}/task`);
  return { main: ticks(String(pid)) / 100, all: tasks.reduce((s, t) => s + ticks(t), 0) / 100 };
}

/**
 * `n` keep-alive sockets from `from`, each sending `GET path` and sending it again whenever an
 * answer arrives; a socket the server closes is reopened. Counts the answers by status.
 */
function holdRequests(port: number, from: string, n: number, path: string | ((i: number) => string)): { stop(): void; answers: Record<string, number>; reopened(): number } {
  const answers: Record<string, number> = {};
  const sockets = new Set<Socket>();
  let stopped = false;
  let reopened = 0;
  let sent = 0;
  const open = (): void => {
    if (stopped) return;
    const s = connect({ port, host: "127.0.0.1", localAddress: from });
    sockets.add(s);
    const ask = (): void => void s.write(`GET ${typeof path === "string" ? path : path(sent++)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    s.on("connect", ask);
    s.on("error", () => undefined);
    s.on("data", (b: Buffer) => {
      const text = b.toString("latin1");
      for (const m of text.matchAll(/HTTP\/1\.1 (\d{3})/g)) {
        answers[m[1]!] = (answers[m[1]!] ?? 0) + 1;
        if (!stopped && s.writable) ask();
      }
      // The answer of a request preempted while it waited (the connection then closes).
      for (const _ of text.matchAll(/made way for a newer one/g)) answers.preempted = (answers.preempted ?? 0) + 1;
    });
    s.on("close", () => {
      sockets.delete(s);
      if (stopped) return;
      reopened++;
      setImmediate(open);
    });
  };
  for (let i = 0; i < n; i++) open();
  return {
    answers,
    reopened: () => reopened,
    stop: () => {
      stopped = true;
      for (const s of sockets) s.destroy();
    },
  };
}

describe("HTTP abuse against the real CLI", () => {
  it("/healthz answers every request while one client holds 600 idle sockets and reopens each one closed", async () => {
    const cli = await startCli([]);
    const before = fdCount(cli.process.pid!);
    const held = new Set<Socket>();
    let stopped = false;
    let reopened = 0;
    const hold = (): void => {
      if (stopped) return;
      const s = connect(cli.port, "127.0.0.1");
      held.add(s);
      s.on("error", () => undefined);
      s.on("close", () => {
        held.delete(s);
        if (stopped) return;
        reopened++;
        setImmediate(hold);
      });
    };
    try {
      for (let i = 0; i < 600; i++) hold();
      await new Promise((r) => setTimeout(r, 1_000));
      const answers: Array<number | string> = [];
      let peakFds = 0;
      for (let i = 0; i < 20; i++) {
        answers.push((await getOnce(cli.port, "/healthz")).status);
        peakFds = Math.max(peakFds, fdCount(cli.process.pid!));
        await new Promise((r) => setTimeout(r, 50));
      }
      console.log(`idle hold: /healthz ${answers.filter((a) => a === 200).length}/20 answered (${JSON.stringify(answers)}); the holder reopened ${reopened} sockets; daemon fds ${before} before, peak ${peakFds}`);
      // Before the fix: 0 to 6 of 20 answered (refused or reset): the idle sockets filled the 512.
      expect(answers).toEqual(Array.from({ length: 20 }, () => 200));
      // and the sockets stay bounded: file descriptors are shared with the probes
      expect(peakFds - before).toBeLessThanOrEqual(512 + 10);
    } finally {
      stopped = true;
      for (const s of held) s.destroy();
    }
  }, 60_000);

  it("/healthz and a scrape of a healthy target are answered while 256 sockets per address hold /probe requests waiting on a hung target", async () => {
    const hung: BlackholeServer = await blackholeServer();
    // A cycle of the hung target outlasts the test (a 5 min connect timeout), so every request
    // for it waits on that cycle throughout (with the defaults it would take ~23 s).
    const cli = await startCli(["--interval", "1m", "--connect-timeout", "5m", "--max-retries", "0", "--dsn", `postgres://postgres@127.0.0.1:${hung.port}/postgres`, "--name", "slow"]);
    await waitFor("app up", async () => (await getOnce(cli.port, "/probe?target=app")).body, (b) => /^db_up\{[^}]*\} 1$/m.test(b), 20_000);
    const scrape = { "x-prometheus-scrape-timeout-seconds": "3" };
    const attackers: Array<ReturnType<typeof holdRequests>> = [];
    const round = async (label: string, from: string): Promise<{ healthz: Array<number | string>; scrapes: Array<number | string> }> => {
      await new Promise((r) => setTimeout(r, 1_500));
      const healthz: Array<number | string> = [];
      const scrapes: Array<number | string> = [];
      for (let i = 0; i < 10; i++) {
        healthz.push((await getOnce(cli.port, "/healthz", {}, from)).status);
        const s = await getOnce(cli.port, "/probe?target=app", scrape, from);
        scrapes.push(s.status === 200 && /^db_up\{[^}]*\} 1$/m.test(s.body) ? 200 : `${s.status} ${s.body.slice(0, 120)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const answers = attackers.map((a) => JSON.stringify(a.answers)).join(" ");
      console.log(`${label}: /healthz from ${from} ${JSON.stringify(healthz)}; /probe?target=app ${JSON.stringify(scrapes)}; attackers' answers ${answers}, reopened ${attackers.map((a) => a.reopened()).join("+")}`);
      return { healthz, scrapes };
    };
    try {
      attackers.push(holdRequests(cli.port, "127.0.0.1", 256, "/probe?target=slow"));
      const same = await round("one attacking address", "127.0.0.1");
      attackers.push(holdRequests(cli.port, "127.0.0.2", 256, "/probe?target=slow"), holdRequests(cli.port, "127.0.0.3", 256, "/probe?target=slow"));
      const other = await round("three attacking addresses", "127.0.0.4");
      // Before the fix every /healthz here was ECONNRESET: the requests waiting on "slow" held
      // every socket the client (and, from two addresses, the server) may have, and a socket
      // serving a request was never evicted.
      const ok = Array.from({ length: 10 }, () => 200);
      expect({ same, other }).toEqual({ same: { healthz: ok, scrapes: ok }, other: { healthz: ok, scrapes: ok } });
      expect(cli.process.exitCode).toBeNull();
    } finally {
      for (const a of attackers) a.stop();
      await hung.close();
    }
  }, 90_000);

  it("/healthz and a scrape of a healthy target are answered while 256 sockets per address hold /probe requests spread over 16 hung targets", async () => {
    const hung: BlackholeServer = await blackholeServer();
    // 16 targets (their cycles take 16 of the daemon's 32 cycle slots, leaving room for app's):
    // 64 waiters per target would be 1,024, more than one address (256) or the server (512) may
    // hold, so the cap per target alone would not keep /healthz in: waiting requests make way.
    const names = Array.from({ length: 16 }, (_, i) => `slow${i}`);
    const cli = await startCli(["--interval", "1m", "--connect-timeout", "5m", "--max-retries", "0", ...names.flatMap((n) => ["--dsn", `postgres://postgres@127.0.0.1:${hung.port}/postgres`, "--name", n])]);
    const spread = (i: number): string => `/probe?target=${names[i % names.length]}`;
    const scrape = { "x-prometheus-scrape-timeout-seconds": "3" };
    const attackers = [holdRequests(cli.port, "127.0.0.1", 256, spread)];
    try {
      const run = async (from: string): Promise<Array<number | string>> => {
        await new Promise((r) => setTimeout(r, 1_500));
        const answers: Array<number | string> = [];
        for (let i = 0; i < 10; i++) {
          answers.push((await getOnce(cli.port, "/healthz", {}, from)).status);
          const s = await getOnce(cli.port, "/probe?target=app", scrape, from);
          answers.push(s.status === 200 && /^db_up\{[^}]*\} 1$/m.test(s.body) ? "app up" : `${s.status} ${s.body.slice(0, 120)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        return answers;
      };
      const same = await run("127.0.0.1");
      attackers.push(holdRequests(cli.port, "127.0.0.2", 256, spread), holdRequests(cli.port, "127.0.0.3", 256, spread));
      const other = await run("127.0.0.4");
      console.log(`16 hung targets: /healthz and /probe?target=app from the attacking address ${JSON.stringify(same)}, from a fourth address ${JSON.stringify(other)}; attackers' answers ${attackers.map((a) => JSON.stringify(a.answers)).join(" ")}`);
      const ok = Array.from({ length: 10 }, () => [200, "app up"]).flat();
      expect({ same, other }).toEqual({ same: ok, other: ok });
      // the room was made by preempting waiting requests, not by luck
      expect(attackers.reduce((n, a) => n + (a.answers.preempted ?? 0), 0)).toBeGreaterThan(0);
    } finally {
      for (const a of attackers) a.stop();
      await hung.close();
    }
  }, 90_000);

  it("wrong passwords are checked off the main thread: authenticated scrapes go on during 60 of them at concurrency 10", async () => {
    const webConfig = join(dir, "web.yml");
    writeFileSync(webConfig, `basic_auth_users:\n  prometheus: ${HASH}\n`);
    const cli = await startCli(["--web-config", webConfig]);
    const right = { authorization: `Basic ${Buffer.from("prometheus:s3cret").toString("base64")}` };
    expect((await getOnce(cli.port, "/metrics", right)).status).toBe(200); // verified, then remembered
    const pid = cli.process.pid!;
    const cpu0 = threadCpu(pid);
    let left = 60;
    const wrong: Array<number | string> = [];
    const storm = Promise.all(
      Array.from({ length: 10 }, async (_, w) => {
        while (left-- > 0) wrong.push((await getOnce(cli.port, "/metrics", { authorization: `Basic ${Buffer.from(`prometheus:wrong-${w}-${left}`).toString("base64")}` })).status);
      }),
    );
    let done = false;
    void storm.then(() => (done = true));
    const scrapes: Array<number | string> = [];
    while (!done) {
      scrapes.push((await getOnce(cli.port, "/metrics", right)).status);
      await new Promise((r) => setTimeout(r, 20));
    }
    await storm;
    const cpu1 = threadCpu(pid);
    const main = cpu1.main - cpu0.main;
    const all = cpu1.all - cpu0.all;
    console.log(`password storm: 60 wrong at concurrency 10 → ${JSON.stringify(Object.fromEntries(["401", "429"].map((s) => [s, wrong.filter((w) => String(w) === s).length])))}; ${scrapes.length} authenticated scrapes meanwhile, ${scrapes.filter((s) => s === 200).length} answered 200; CPU ${all.toFixed(2)} s, of which the main thread ${main.toFixed(2)} s`);
    expect(wrong.every((w) => w === 401 || w === 429)).toBe(true);
    expect(scrapes.length).toBeGreaterThan(0);
    expect(scrapes.every((s) => s === 200)).toBe(true);
    // The comparisons (~75 ms of CPU each) ran on another thread. Before the fix the main thread
    // did them all: 97 % of the process's CPU time during the storm.
    expect(all).toBeGreaterThan(1);
    expect(main / all).toBeLessThan(0.5);
  }, 90_000);

  it("a 100 KB header is answered 431 with Connection: close, and the client reads it before a clean close", async () => {
    const cli = await startCli([]);
    const head = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(100 * 1024)}\r\n\r\n`;
    const attempts: string[] = [];
    for (let i = 0; i < 5; i++) {
      attempts.push(
        await new Promise<string>((resolve) => {
          const s = connect(cli.port, "127.0.0.1");
          let text = "";
          let end = "clean close";
          s.on("data", (b: Buffer) => (text += b.toString("latin1")));
          s.on("error", (e: NodeJS.ErrnoException) => (end = e.code ?? e.message));
          s.on("close", () => resolve(`${text.split("\r\n")[0]}${/\r\nconnection: close\r\n/i.test(text) ? " (Connection: close)" : ""}, then ${end}`));
          s.write(head);
        }),
      );
    }
    console.log(`100 KB header, 5 attempts: ${JSON.stringify(attempts)}`);
    // Before the fix the server destroyed the socket with the rest of the header unread, the
    // kernel answered with a reset, and the client mostly saw ECONNRESET (curl: "Recv failure").
    expect(attempts).toEqual(Array.from({ length: 5 }, () => "HTTP/1.1 431 Request Header Fields Too Large (Connection: close), then clean close"));
    expect((await getOnce(cli.port, "/healthz")).status).toBe(200);
  });

  it("wrapper: /readyz and /health answer 503 stopping once SIGTERM is forwarded to a child that ignores it", async () => {
    // The child says when its handlers are in place (its stdout is the wrapper's): a SIGTERM
    // before that would kill it by the default action.
    const ignoring = "for (const s of ['SIGTERM', 'SIGINT', 'SIGQUIT']) process.on(s, () => undefined); setInterval(() => undefined, 1000); console.log('child: ignoring stop signals');";
    const cli = await startCli(["--interval", "300ms", "--", process.execPath, "-e", ignoring]);
    await waitFor("the child's handlers", async () => cli.logs(), (l) => l.includes("child: ignoring stop signals"), 20_000, 20);
    await waitFor("ready", async () => (await getOnce(cli.port, "/readyz")).status, (s) => s === 200, 20_000);
    const started = cli.logs().split("\n").find((l) => l.includes('"msg":"child started"'));
    const childPid = (JSON.parse(started ?? "{}") as { pid?: number }).pid!;
    expect(childPid).toBeGreaterThan(0);
    try {
      cli.process.kill("SIGTERM");
      await waitFor("the signal to be forwarded", async () => cli.logs(), (l) => l.includes("forwarding SIGTERM to the child"), 10_000, 20);
      // Before the fix: 200 "ready" for as long as the child kept running.
      for (let i = 0; i < 3; i++) {
        expect(await getOnce(cli.port, "/readyz")).toEqual({ status: 503, body: "not ready:\nstopping\n" });
        const health = await getOnce(cli.port, "/health");
        expect(health.status).toBe(503);
        expect(JSON.parse(health.body)).toMatchObject({ status: "fail", checks: { "service:readiness": [{ status: "fail", output: "stopping" }] } });
        expect((await getOnce(cli.port, "/healthz")).status).toBe(200);
        await new Promise((r) => setTimeout(r, 300));
      }
    } finally {
      // the wrapper ends with its child; a child already gone has nothing left to kill
      try {
        process.kill(childPid, "SIGKILL");
      } catch {}
    }
    // killed by SIGKILL: 128 + 9
    expect(await cli.exited).toBe(137);
  }, 60_000);
});
