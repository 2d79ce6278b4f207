import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CLI } from "./__fixtures__/cli-path.js";

const dir = mkdtempSync(join(tmpdir(), "dbh-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 30_000, env: { ...process.env, DB_HEALTH_DSN: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe("healthcheck --once", () => {
  it("prints a table and exits 0 when every target is up", () => {
    const r = run("--once", "--dsn", `file:${dir}/once.db?mode=rwc`);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^TARGET\s+ENGINE\s+ROLE\s+STATUS\s+CONNECT\s+PING\s+WRITE\s+READ\s+REASON$/m);
    expect(r.stdout).toMatch(/^sqlite\s+sqlite\s+primary\s+UP\s+\d+\.\d+\s+\d+\.\d+\s+\d+\.\d+\s+\d+\.\d+$/m);
  });

  it("probes PostgreSQL, MariaDB (Go-style DSN) and SQLite in one run", () => {
    const r = run(
      "--once", "--format", "json",
      "--dsn", "postgres://postgres@127.0.0.1:5432/test",
      "--dsn", "mysql://root@tcp(127.0.0.1:3306)/test",
      "--dsn", `file:${dir}/pg-and-sqlite.db?mode=rwc`,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { targets: Array<{ target: string; driver: string; role: string; connections?: number }> };
    expect(doc.targets.map((t) => [t.target, t.driver, t.role])).toEqual([
      ["postgres", "postgres", "primary"],
      ["mysql", "mysql", "primary"],
      ["sqlite", "sqlite", "primary"],
    ]);
    expect(doc.targets[0]!.connections).toBeGreaterThan(0);
    expect(doc.targets[1]!.connections).toBeGreaterThan(0);
  });

  it("prints JSON with --format json", () => {
    const r = run("--once", "--format", "json", "--dsn", `file:${dir}/json.db?mode=rwc`, "--dsn", ":memory:");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { status: string; targets: Array<{ target: string; status: string; phases: Record<string, { ms: number }> }> };
    expect(doc.status).toBe("up");
    expect(doc.targets.map((t) => t.target)).toEqual(["sqlite", "sqlite-2"]);
    expect(doc.targets[0]!.phases.write!.ms).toBeGreaterThan(0);
  });

  it("exits 1 when a target is down, with the reason", () => {
    const r = run("--once", "--max-retries", "0", "--dsn", `file:${dir}/missing/x.db?mode=rw`);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/DOWN  .*connect failed: no database file at .*missing\/x\.db: a SQLite target is opened, never created, unless its DSN says mode=rwc/);
  });

  it("exits 1 when degraded, 0 with --degraded-ok", () => {
    const args = ["--once", "--role", "replica", "--dsn", `file:${dir}/degraded.db?mode=rwc`];
    const strict = run(...args);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/DEGRADED\s.*configured as replica but the node is a primary/);
    expect(run(...args, "--degraded-ok").code).toBe(0);
  });

  it("exits 3 on bad configuration, listing every problem, without a stack trace", () => {
    const r = run("--once", "--dsn", `file:${dir}/x.db`, "--interval", "5x", "--read-timeout", "abc", "--max-retries", "-2");
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^healthcheck: invalid configuration:/);
    expect(r.stderr).toContain("interval");
    expect(r.stderr).toContain("readTimeout");
    expect(r.stderr).toContain("maxRetries");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe("");
  });

  it("exits 3 when no DSN is given or a flag is unknown", () => {
    expect(run("--once").code).toBe(3);
    const r = run("--once", "--dsn", ":memory:", "--bogus");
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/unknown option '--bogus'/);
  });

  it("exits 3 when one setting is given in both spellings (ours and the exporter toolkit's)", () => {
    const r = run("--dsn", ":memory:", "--export-prom", "127.0.0.1:0", "--web.listen-address", "127.0.0.1:0");
    expect(r.code).toBe(3);
    expect(r.stderr).toBe("healthcheck: invalid configuration:\n  --web.listen-address: the same setting as --export-prom: give only one of them\n");
  });

  it("names the package to install for a missing driver, never the password", () => {
    const r = run("--once", "--dsn", "sqlserver://sa:Sup3rS3cret!@127.0.0.1:1433/master");
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('no driver for "sqlserver://sa@127.0.0.1:1433/master": install @alfred/db-health-driver-mssql');
    expect(r.stderr).not.toContain("Sup3rS3cret");
  });

  it("ends on SIGINT while a target hangs, exit 1, and reports every bad DSN at once", async () => {
    const plugin = fileURLToPath(new URL("./__fixtures__/hang-driver.mjs", import.meta.url));
    const child = spawn(process.execPath, [CLI, "--once", "--plugin", plugin, "--dsn", "hang://db/x", "--connect-timeout", "30s"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    await new Promise((r) => setTimeout(r, 700));
    const t0 = Date.now();
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(code).toBe(1);
    expect(stderr).toBe("healthcheck: interrupted before every target was probed\n");

    const bad = run("--once", "--dsn", `file:${dir}/a.db?mode=rwx`, "--dsn", `file:${dir}/b.db?bogus=1`, "--interval", "5x");
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain("interval");
    expect(bad.stderr).toContain("mode=rwx");
    expect(bad.stderr).toContain("bogus");
  });

  it("loads only what a --once run needs: its driver's client, no pino, no prom-client, no other driver, no commander", () => {
    const script = `
      import { createRequire } from "node:module";
      const require = createRequire(import.meta.url);
      const { main } = await import(${JSON.stringify(new URL("../dist/main.js", import.meta.url).href)});
      const code = await main(["--once", "--dsn", ${JSON.stringify(`file:${dir}/lazy.db?mode=rwc`)}, "--format=text", "--read-timeout", "2s"], { stdout: { write() {} }, stderr: process.stderr, env: {}, shutdown: new AbortController().signal });
      const names = Object.keys(require.cache).filter((k) => k.includes("node_modules/")).map((k) => { const [a, b] = k.split("node_modules/").pop().split("/"); return a.startsWith("@") ? a + "/" + b : a; });
      console.log(JSON.stringify({ code, names: [...new Set(names)] }));`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
    const { code, names } = JSON.parse(r.stdout) as { code: number; names: string[] };
    expect(code).toBe(0);
    expect(names).toContain("better-sqlite3");
    for (const heavy of ["prom-client", "pino", "pg", "mysql2", "mssql", "tedious", "yaml", "bcryptjs", "commander"]) expect(names, heavy).not.toContain(heavy);
  });

  it("shows help and exits 0", () => {
    const r = run("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--export-prom");
  });

  it("runs the same when its code caches are damaged inside (the cache is checked, not trusted)", () => {
    // V8 checks a cache's header only: a payload damaged in the middle used to crash node (139).
    const dir = mkdtempSync(join(tmpdir(), "dbh-cache-"));
    try {
      const dist = join(dir, "dist");
      cpSync(join(dirname(CLI)), dist, { recursive: true });
      symlinkSync(join(dirname(CLI), "..", "node_modules"), join(dir, "node_modules"));
      copyFileSync(join(dirname(CLI), "..", "package.json"), join(dir, "package.json"));
      const caches = readdirSync(join(dist, "chunks")).filter((f) => f.endsWith(".cache"));
      expect(caches).toContain("cli.cjs.cache");
      for (const f of caches) {
        const b = readFileSync(join(dist, "chunks", f));
        for (let i = b.length >> 1; i < (b.length >> 1) + 16; i++) b[i]! ^= 0x55;
        writeFileSync(join(dist, "chunks", f), b);
      }
      const cli = join(dist, "cli.cjs");
      const opts = { encoding: "utf8" as const, timeout: 30_000, env: { ...process.env, DB_HEALTH_DSN: "" } };
      const help = spawnSync(process.execPath, [cli, "--help"], opts);
      expect([help.status, help.stderr]).toEqual([0, ""]);
      expect(help.stdout).toContain("--export-prom");
      const once = spawnSync(process.execPath, [cli, "--once", "--dsn", `file:${join(dir, "a.db")}?mode=rwc`], opts);
      expect([once.status, once.stderr]).toEqual([0, ""]);
      expect(once.stdout).toContain("UP");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ends quietly with its own exit code when the reader of its output goes away (| head -1)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dbh-epipe-"));
    try {
      for (const args of [["--help"], ["--once", "--format", "json", "--dsn", `file:${join(dir, "a.db")}?mode=rwc`]]) {
        // The read end is closed before the CLI writes a byte: every write of it fails with EPIPE.
        const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, DB_HEALTH_DSN: "" } });
        child.stdout.destroy();
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
        expect(stderr, args[0]).toBe("");
        expect(code, args[0]).toBe(0);
      }
      // --version and --help alone take the quick path, which writes with writeSync.
      for (const args of [["--version"], ["--help"]]) {
        const { DB_HEALTH_DSN: _dsn, ...env } = process.env;
        const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], env });
        child.stdout.destroy();
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
        expect([code, stderr], `quick ${args[0]}`).toEqual([0, ""]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("healthcheck daemon", () => {
  let child: ChildProcess | undefined;
  afterEach(() => child?.kill("SIGKILL"));

  const start = async (...args: string[]): Promise<{ base: string; logs: () => string; exit: Promise<number | null> }> => {
    child = spawn(process.execPath, [CLI, "--export-prom", "127.0.0.1:0", "--interval", "200ms", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let logs = "";
    child.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
    const exit = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const m = /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(logs);
      if (m) return { base: m[1]!, logs: () => logs, exit };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`daemon did not start: ${logs}`);
  };
  const waitFor = async (url: string, pattern: RegExp): Promise<string> => {
    const deadline = Date.now() + 10_000;
    let body = "";
    while (Date.now() < deadline) {
      body = await (await fetch(url)).text();
      if (pattern.test(body)) return body;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${pattern} in ${body}`);
  };

  it("serves /metrics, /healthz and /readyz, logs JSON, and exits 0 on SIGTERM", async () => {
    const d = await start("--dsn", `file:${dir}/daemon.db?mode=rwc`);
    const metrics = await waitFor(`${d.base}/metrics`, /db_up\{db_name="sqlite",db_role="primary",target="sqlite"\} 1/);
    expect(metrics).toMatch(/db_write_latency_ms\{db_name="sqlite",db_role="primary",target="sqlite"\} \d+\.\d+/);
    expect((await fetch(`${d.base}/healthz`)).status).toBe(200);
    expect((await fetch(`${d.base}/readyz`)).status).toBe(200);
    expect((await fetch(`${d.base}/nope`)).status).toBe(404);
    for (const line of d.logs().trim().split("\n")) expect(() => JSON.parse(line)).not.toThrow();
    const t0 = Date.now();
    child!.kill("SIGTERM");
    expect(await d.exit).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  const hangPlugin = fileURLToPath(new URL("./__fixtures__/hang-driver.mjs", import.meta.url));
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`exits 0 at once on ${signal} while a cycle hangs in a client that ignores its signal`, async () => {
      const d = await start("--plugin", hangPlugin, "--dsn", "hang://db/x", "--connect-timeout", "30s");
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      child!.kill(signal);
      expect(await d.exit).toBe(0);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(d.logs()).toMatch(/"msg":"stopped"/);
    });
  }

  it("exits 0 soon after a clean stop even when a client library leaves a socket open", async () => {
    const d = await start("--plugin", hangPlugin, "--dsn", "hang://db/x?close=linger", "--connect-timeout", "30s");
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    child!.kill("SIGTERM");
    expect(await d.exit).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(d.logs()).toMatch(/"msg":"stopped"/);
    expect(d.logs()).not.toMatch(/did not finish/);
  });

  it("exits 1 with a log line when closing a connection takes longer than 8 s", async () => {
    const d = await start("--plugin", hangPlugin, "--dsn", "hang://db/x?close=hang", "--connect-timeout", "30s");
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    child!.kill("SIGTERM");
    expect(await d.exit).toBe(1);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(7900);
    expect(took).toBeLessThan(9500);
    expect(d.logs()).toMatch(/"level":"error".*"msg":"shutdown did not finish within 8 s; exiting"/);
    expect(d.logs()).not.toMatch(/"msg":"stopped"/);
  }, 15_000);

  it("says what it is: build info with the revision it was built from, the process's runtime metrics unless told not to", async () => {
    const { revision } = JSON.parse(readFileSync(new URL("../dist/build-info.json", import.meta.url), "utf8")) as { revision: string };
    const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    let d = await start("--dsn", `file:${dir}/identity.db?mode=rwc`);
    let text = await waitFor(`${d.base}/metrics`, /db_up\{.*\} 1/);
    expect(text).toContain(`db_health_check_build_info{version="${version}",revision="${revision}",nodeversion="${process.version}"} 1`);
    for (const family of ["process_resident_memory_bytes", "process_start_time_seconds", "nodejs_heap_size_used_bytes", "nodejs_gc_duration_seconds", "nodejs_version_info"]) {
      expect(text).toContain(`# TYPE ${family} `);
    }
    child!.kill("SIGTERM");
    await d.exit;
    d = await start("--dsn", `file:${dir}/identity.db?mode=rwc`, "--no-runtime-metrics");
    text = await waitFor(`${d.base}/metrics`, /db_up\{.*\} 1/);
    expect(text).not.toMatch(/^(process|nodejs)_/m);
    expect(text).toContain(`revision="${revision}"`);
  });

  it("reports a down target as db_up 0 and /readyz 503", async () => {
    const d = await start("--max-retries", "0", "--dsn", `file:${dir}/nowhere/x.db?mode=rw`);
    await waitFor(`${d.base}/metrics`, /db_up\{db_name="sqlite",db_role="unknown",target="sqlite"\} 0/);
    const ready = await fetch(`${d.base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toMatch(/^not ready:\nsqlite: down: connect failed: no database file at .*nowhere\/x\.db: a SQLite target is opened, never created, unless its DSN says mode=rwc \(file:PATH\?mode=rwc\)\n?$/);
  });

  const promtool = process.env.PROMTOOL ?? "promtool";
  const havePromtool = spawnSync(promtool, ["--version"]).status === 0;
  it.skipIf(!havePromtool && !process.env.CI)("serves output that promtool check metrics accepts (only the _ms lint with legacy names)", async () => {
    for (const legacy of [true, false]) {
      const d = await start("--dsn", `file:${dir}/promtool.db?mode=rwc`, ...(legacy ? [] : ["--no-legacy-metrics"]));
      const text = await waitFor(`${d.base}/metrics`, /db_up\{.*\} 1/);
      // The exporter's own process is part of what promtool checks (runtime metrics are on by default).
      expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
      const r = spawnSync(promtool, ["check", "metrics"], { input: text, encoding: "utf8" });
      const findings = `${r.stdout}${r.stderr}`.trim().split("\n").filter(Boolean).sort();
      expect(findings).toEqual(
        legacy
          ? ["db_read_latency_ms metric names should not contain abbreviated units", "db_write_latency_ms metric names should not contain abbreviated units"]
          : [],
      );
      child!.kill("SIGTERM");
      await d.exit;
    }
  });
});
