import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI } from "./__fixtures__/cli-path.js";
import { buildInfo } from "./build-info.js";
import { ENV_VARS } from "./config/env.js";
import { buildProgram } from "./config/flags.js";
import { resolveCli } from "./config/resolve.js";
import { TARGET_SETTINGS } from "./config/settings.js";
import { DEFAULT_STATUS_URL, quickRun } from "./quick.js";

const dir = mkdtempSync(join(tmpdir(), "dbh-quick-"));
const servers: Server[] = [];
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const s of servers) s.closeAllConnections(), s.close();
});

/** PID 1's command line as /proc writes it, in a file. */
function cmdline(...words: string[]): string {
  const file = join(dir, `cmdline-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, words.map((w) => `${w}\0`).join(""));
  return file;
}

/** The CLI as a HEALTHCHECK runs it; `extraEnv` with a DB_HEALTH_* variable sends it the full way. */
function run(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("DB_HEALTH_")));
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe("the quick path (status, --version, --help alone)", () => {
  it("takes only what the full CLI would do the same with", () => {
    const none = { pid1Cmdline: join(dir, "missing"), helpText: "help\n" };
    for (const argv of [["status"], ["status", "http://127.0.0.1:9/readyz"], ["status", "https://u:p@h:1/x"], ["--version"], ["-V"], ["--help"], ["-h"]]) {
      expect(quickRun(argv, {}, none), argv.join(" ")).toBeTypeOf("function");
    }
    const full = [
      ["status", "--export-prom", ":1"],
      ["status", "http://127.0.0.1:9/readyz", "extra"],
      ["status", "ftp://h/x"],
      ["status", "not a url"],
      ["status", ""],
      ["status", "--"],
      ["--version", "--help"],
      ["--help", "--dsn", "x"],
      ["--once"],
      [],
      ["config", "check", "x.yaml"],
    ];
    for (const argv of full) expect(quickRun(argv, {}, none), argv.join(" ")).toBeUndefined();
    // Any DB_HEALTH_* variable is read (and checked) by the full path; empty ones count as unset.
    expect(quickRun(["status"], { DB_HEALTH_LOG_LEVEL: "loud" }, none)).toBeUndefined();
    expect(quickRun(["status", "http://h:1/x"], { DB_HEALTH_DSN: "file:x.db" }, none)).toBeUndefined();
    expect(quickRun(["status"], { DB_HEALTH_LISTEN: "", PATH: "/bin" }, none)).toBeTypeOf("function");
    // Without a help text (the library's dist, the tests' sources) --help is commander's.
    expect(quickRun(["--help"], {}, { ...none, helpText: undefined })).toBeUndefined();
  });

  it("leaves plain status to the full path when PID 1 is this CLI started with flags", () => {
    const self = join(dir, "cli.cjs");
    writeFileSync(self, "");
    const ask = (pid1: string): unknown => quickRun(["status"], {}, { pid1Cmdline: pid1, self });
    expect(ask(cmdline("node", self, "--export-prom", ":9191"))).toBeUndefined();
    expect(ask(cmdline("node", self, "--config", "/etc/h.yaml", "--", "postgres"))).toBeUndefined();
    expect(ask(cmdline("node", self))).toBeTypeOf("function");
    expect(ask(cmdline("node", self, "--", "docker-entrypoint.sh", "--export-prom", ":1"))).toBeTypeOf("function");
    expect(ask(cmdline("postgres", "-D", "/data"))).toBeTypeOf("function");
    // Node's own options come before the script (docs/operations.md runs the daemon so).
    expect(ask(cmdline("node", "--no-memory-reducer", self, "--export-prom", ":9191"))).toBeUndefined();
    expect(ask(cmdline("node", "-r", "/preload.cjs", "--max-old-space-size=300", self, "--export-prom", ":9191"))).toBeUndefined();
    expect(ask(cmdline("node", "--no-memory-reducer", self))).toBeTypeOf("function");
  });

  it("asks where the full path would ask", async () => {
    for (const argv of [["status"], ["status", "http://127.0.0.1:9/readyz"], ["status", "https://u:p%40@[::1]:9100/x?y"]]) {
      const plan = await resolveCli(argv, {}, "0.0.0");
      expect(plan.argument, argv.join(" ")).toBe(argv[1] ?? DEFAULT_STATUS_URL);
    }
  });

  it("relies on every variable the CLI reads being named DB_HEALTH_*", () => {
    const names = [...Object.values(ENV_VARS), ...TARGET_SETTINGS.map((s) => s.env)];
    expect(names.filter((n) => !n.startsWith("DB_HEALTH_"))).toEqual([]);
  });

  it("prints commander's --help, exactly", async () => {
    let expected = "";
    buildProgram(buildInfo().version, (text) => void (expected += text)).outputHelp();
    for (const flag of ["--help", "-h"]) expect(await run([flag])).toEqual({ code: 0, stdout: expected, stderr: "" });
    // The same words the full way (a DB_HEALTH_* variable): what commander itself prints.
    expect(await run(["--help"], { DB_HEALTH_LOG_LEVEL: "info" })).toEqual({ code: 0, stdout: expected, stderr: "" });
  });

  it("answers status and --version as the full path does: output and exit code", async () => {
    const server = createServer((req, res) => {
      if (req.url === "/down") res.writeHead(503).end("not ready:\npg: down\n");
      else res.end(`ready ${req.headers.authorization ?? ""}`);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const cases = [["status", `${base}/readyz`], ["status", `${base}/down`], ["status", base.replace("//", "//prom:s3cret@")], ["status", "http://127.0.0.1:1/readyz"], ["--version"]];
    for (const args of cases) {
      const [quick, full] = await Promise.all([run(args), run(args, { DB_HEALTH_LOG_LEVEL: "info" })]);
      expect(quick, args.join(" ")).toEqual(full);
      expect(quick.stdout + quick.stderr).not.toContain("s3cret");
    }
  });
});
