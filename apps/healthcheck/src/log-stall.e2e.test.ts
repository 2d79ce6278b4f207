import { execFileSync, spawn } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI } from "./__fixtures__/cli-path.js";

const dir = mkdtempSync(join(tmpdir(), "dbh-log-stall-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a log reader that stops reading", () => {
  it("costs log lines, never the daemon: /healthz answers and SIGTERM stops it while nobody reads its stderr", async () => {
    // stderr is a FIFO (what Docker and Kubernetes give a container) whose reader never reads:
    // debug lines of 20 targets every 100 ms fill its 64 KiB within a second or two.
    const fifo = join(dir, "stderr");
    execFileSync("mkfifo", [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY);
    const port = await freePort();
    const targets = Array.from({ length: 20 }, (_, i) => ["--dsn", `file:${join(dir, `t${i}.db`)}?mode=rwc`, "--name", `t${i}`]).flat();
    const child = spawn(process.execPath, [CLI, "--export-prom", `127.0.0.1:${port}`, "--interval", "100ms", "--log-level", "debug", ...targets], {
      stdio: ["ignore", "ignore", writer],
      env: { ...process.env, DB_HEALTH_DSN: "", DB_HEALTH_CONFIG: "" },
    });
    closeSync(writer);
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      const answers: string[] = [];
      for (let i = 0; i < 40; i++) {
        await sleep(200);
        const answer = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) }).then(
          (r) => `${r.status}`,
          (err: Error) => err.name,
        );
        answers.push(answer);
      }
      // Listening within the first seconds; from then on every /healthz is answered.
      const first = answers.indexOf("200");
      expect(first, answers.join(" ")).toBeGreaterThanOrEqual(0);
      expect(answers.slice(first).filter((a) => a !== "200"), answers.join(" ")).toEqual([]);
      child.kill("SIGTERM");
      const code = await Promise.race([exited, sleep(15_000).then(() => "still running")]);
      expect(code).toBe(0);
      // What reached the pipe is whole JSON lines.
      const buffer = Buffer.alloc(1 << 16);
      const n = readSync(reader, buffer, 0, buffer.length, null);
      const lines = buffer.toString("utf8", 0, n).split("\n").slice(0, -1);
      expect(lines.length).toBeGreaterThan(10);
      for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
    } finally {
      child.kill("SIGKILL");
      closeSync(reader);
    }
  }, 60_000);

  it("delivers its last lines at exit to a reader that reads again", async () => {
    // The pipe is full when the daemon starts and nobody reads: its lines wait in the sink. A
    // reader starts as SIGTERM is sent; the lines, "stopped" last, must reach it.
    const fifo = join(dir, "stderr-exit");
    execFileSync("mkfifo", [fifo]);
    const holder = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const filler = Buffer.alloc(4096, "#");
    try {
      for (;;) writeSync(writer, filler);
    } catch {
      // EAGAIN: full
    }
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, "--export-prom", `127.0.0.1:${port}`, "--dsn", `file:${join(dir, "exit.db")}?mode=rwc`], {
      stdio: ["ignore", "ignore", writer],
      env: { ...process.env, DB_HEALTH_DSN: "", DB_HEALTH_CONFIG: "" },
    });
    closeSync(writer);
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      for (let i = 0; i < 100; i++) {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0)) === 200) break;
        await sleep(100);
      }
      const out = join(dir, "stderr-exit.txt");
      const cat = spawn("sh", ["-c", `exec cat < ${fifo} > ${out}`]);
      const catDone = new Promise((resolve) => cat.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      closeSync(holder);
      await catDone;
      const lines = readFileSync(out, "utf8").replace(/^#+/, "").trimEnd().split("\n");
      expect(lines.at(-1)).toContain('"msg":"stopped"');
      expect(lines.some((l) => l.includes('"msg":"status"'))).toBe(true);
    } finally {
      child.kill("SIGKILL");
    }
  }, 60_000);
});

