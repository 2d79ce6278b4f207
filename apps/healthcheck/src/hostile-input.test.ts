import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { specialFiles } from "./__fixtures__/special-files.js";
import { CLI } from "./__fixtures__/cli-path.js";

// The real CLI process under hostile input (issue 14): special files where regular files belong,
// a stop signal while start-up is stuck, flags a mode would ignore, YAML too deep or too big.
// Each run is bounded: a watchdog kills it, and its data segment is capped at 1 GiB, so that a
// build that reads /dev/zero or stalls fails its test instead of taking the machine with it.
const NEVER_IMPORTS = fileURLToPath(new URL("./__fixtures__/never-imports.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "dbh-hostile-"));
const fifo = join(dir, "fifo");
const socket = join(dir, "socket");
let closeSocket = (): void => undefined;
beforeAll(async () => void ({ close: closeSocket } = await specialFiles(dir)));
afterAll(() => {
  closeSocket();
  rmSync(dir, { recursive: true, force: true });
});
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From the stop signal (or the start) to the exit. */
  ms: number;
}

/** Runs the CLI; `stop` sends a signal once stderr matches `when` (or after `afterMs`). */
function cli(args: string[], options: { env?: Record<string, string>; stop?: { signal: NodeJS.Signals; when?: RegExp; afterMs?: number }; timeoutMs?: number } = {}): Promise<Run> {
  const env = { ...process.env, DB_HEALTH_DSN: "", DB_HEALTH_DSN_FILE: "", DB_HEALTH_CONFIG: "", ...options.env };
  const child = spawn("/bin/sh", ["-c", 'ulimit -d 1048576 && exec "$@"', "sh", process.execPath, CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let t0 = Date.now();
  let stopped = false;
  const stop = (): void => {
    if (!options.stop || stopped) return;
    stopped = true;
    t0 = Date.now();
    child.kill(options.stop.signal);
  };
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => {
    stderr += b.toString();
    if (options.stop?.when?.test(stderr)) stop();
  });
  const timer = options.stop?.afterMs === undefined ? undefined : setTimeout(stop, options.stop.afterMs);
  const watchdog = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 15_000);
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(watchdog);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** The lines of a config error, without the header. */
const problems = (r: Run): string[] =>
  r.stderr
    .replace(/^healthcheck: invalid configuration:\n/, "")
    .trimEnd()
    .split("\n")
    .map((l) => l.trim());

describe("special files are refused at once, one line each, exit 3", () => {
  it("/dev/zero, a FIFO, a directory and a socket as YAML passwordFile/dsnFile, with the other problems", async () => {
    const yaml = file(
      "special.yaml",
      [
        "targets:",
        `  - { name: zero, dsn: "postgres://app@db:5432/app", passwordFile: /dev/zero }`,
        `  - { name: fifo, dsnFile: ${fifo} }`,
        `  - { name: dir, dsnFile: ${dir} }`,
        `  - { name: sock, dsnFile: ${socket} }`,
        "",
      ].join("\n"),
    );
    const r = await cli(["--once", "--config", yaml, "--interval", "5x"]);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(3);
    expect(problems(r).sort()).toEqual(
      [
        `--interval: invalid duration "5x": use a number with a unit, e.g. 500ms, 2s, 1m`,
        `${yaml}: targets[0].passwordFile (line 2): cannot read "/dev/zero": it is a character device, not a regular file`,
        `${yaml}: targets[1].dsnFile (line 3): cannot read "${fifo}": it is a FIFO, not a regular file`,
        `${yaml}: targets[2].dsnFile (line 4): cannot read "${dir}": it is a directory, not a regular file`,
        `${yaml}: targets[3].dsnFile (line 5): cannot read "${socket}": it is a socket, not a regular file`,
      ].sort(),
    );
  });

  // Each *_FILE variable the CLI reads, with what makes it read that variable.
  const SECRET_VARIABLES: Record<string, Record<string, string>> = {
    DB_HEALTH_DSN_FILE: {},
    POSTGRES_PASSWORD_FILE: {},
    MYSQL_PASSWORD_FILE: { MYSQL_USER: "app", MYSQL_DATABASE: "test" },
    MYSQL_ROOT_PASSWORD_FILE: { MYSQL_DATABASE: "test" },
    MARIADB_PASSWORD_FILE: { MARIADB_USER: "app", MARIADB_DATABASE: "test" },
    MARIADB_ROOT_PASSWORD_FILE: { MARIADB_DATABASE: "test" },
  };
  for (const [name, extra] of Object.entries(SECRET_VARIABLES)) {
    it(`${name} naming /dev/zero or a FIFO`, async () => {
      for (const [path, what] of [["/dev/zero", "a character device"], [fifo, "a FIFO"]] as const) {
        const r = await cli(["--once"], { env: { ...extra, [name]: path } });
        expect(r.signal, `${name}=${path}`).toBeNull();
        expect(r.code, r.stderr).toBe(3);
        expect(problems(r)).toContain(`${name}: cannot read "${path}": it is ${what}, not a regular file`);
      }
    });
  }

  it("--config, DB_HEALTH_CONFIG, --web-config and --plugin naming a FIFO", async () => {
    const runs = await Promise.all([
      cli(["--once", "--config", fifo]),
      cli(["--once", "--dsn", ":memory:"], { env: { DB_HEALTH_CONFIG: fifo } }),
      cli(["config", "check", file("web.yaml", "targets: [{ dsn: ':memory:' }]\n"), "--web-config", fifo]),
      cli(["--once", "--plugin", fifo, "--dsn", ":memory:"]),
    ]);
    expect(runs.map((r) => [r.code, problems(r)])).toEqual([
      [3, [`--config: cannot read "${fifo}": it is a FIFO, not a regular file`]],
      [3, [`DB_HEALTH_CONFIG: cannot read "${fifo}": it is a FIFO, not a regular file`]],
      [3, [`--web-config: cannot read "${fifo}": it is a FIFO, not a regular file`]],
      [3, [`--plugin: cannot import "${fifo}": it is a FIFO, not a regular file`]],
    ]);
  });

  it("web config PEM files: /dev/zero, a FIFO, a file over 1 MiB; nothing is served", async () => {
    const big = file("big.pem", "");
    truncateSync(big, 2 * 1024 * 1024);
    const web = file("web-special.yml", `tls_server_config:\n  cert_file: /dev/zero\n  key_file: ${fifo}\n  client_ca_file: ${big}\n  client_auth_type: RequireAndVerifyClientCert\n`);
    const r = await cli(["--export-prom", "127.0.0.1:0", "--dsn", `file:${dir}/web.db?mode=rwc`, "--web-config", web]);
    expect(r.code).toBe(3);
    expect(r.stderr).not.toContain('"msg":"serving');
    expect(r.stderr).toContain(`tls_server_config.cert_file: cannot read "/dev/zero": it is a character device, not a regular file`);
    expect(r.stderr).toContain(`tls_server_config.key_file: cannot read "${fifo}": it is a FIFO, not a regular file`);
    expect(r.stderr).toContain(`tls_server_config.client_ca_file: cannot read "${big}": it is 2 MiB, over the 1 MiB limit for a PEM file`);
  });

  it("files over their limit are named with their size, never their content", async () => {
    const secret = file("secret", `Hunter2-${"x".repeat(70 * 1024)}`);
    const config = file("huge.yaml", `# Hunter2\n${"#".repeat(9.1 * 1024 * 1024)}\n`);
    const r = await cli(["--once", "--config", config], { env: { DB_HEALTH_DSN_FILE: secret } });
    expect(r.code).toBe(3);
    expect(problems(r)).toEqual([
      `DB_HEALTH_DSN_FILE: cannot read "${secret}": it is 70 KiB, over the 64 KiB limit for a secret file`,
      `--config: cannot read "${config}": it is 9.1 MiB, over the 8 MiB limit for a configuration file`,
    ]);
    expect(r.stderr + r.stdout).not.toContain("Hunter2");
  });
});

describe("a stop signal during start-up ends the process at once", () => {
  // A plugin whose import never finishes: start-up is stuck there when the signal comes.
  const stuck = { when: /never-imports: importing/ };
  const cases = [
    { mode: "--once", args: ["--once"], signal: "SIGTERM", code: 1 },
    { mode: "daemon", args: ["--export-prom", "127.0.0.1:0"], signal: "SIGTERM", code: 0 },
    { mode: "daemon", args: ["--export-prom", "127.0.0.1:0"], signal: "SIGINT", code: 0 },
    { mode: "config check", args: ["config", "check", "CONFIG"], signal: "SIGQUIT", code: 1 },
  ] as const;
  for (const c of cases) {
    it(`${c.mode}: ${c.signal} while a plugin's import hangs exits ${c.code}`, async () => {
      const args = c.args.map((a) => (a === "CONFIG" ? file("stuck.yaml", "targets: [{ dsn: ':memory:' }]\n") : a));
      const r = await cli([...args, "--plugin", NEVER_IMPORTS, "--dsn", ":memory:"], { stop: { signal: c.signal, ...stuck } });
      expect(r.signal, r.stderr).toBeNull();
      expect(r.code).toBe(c.code);
      expect(r.ms).toBeLessThan(2000);
      expect(r.stderr).toBe(`never-imports: importing\nhealthcheck: stopped by ${c.signal} during start-up, before anything was probed or started\n`);
    });
  }

  it("wrapper: the program is never started, exit 128 + signal", async () => {
    const started = join(dir, "started");
    for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
      const r = await cli(["--export-prom", "127.0.0.1:0", "--plugin", NEVER_IMPORTS, "--dsn", ":memory:", "--", "sh", "-c", `touch ${started}; sleep 30`], { stop: { signal, ...stuck } });
      expect(r.code, r.stderr).toBe(code);
      expect(r.ms).toBeLessThan(2000);
      expect(existsSync(started)).toBe(false);
    }
  });

  it("a FIFO as --config or DB_HEALTH_DSN_FILE never blocks start-up: exit 3, or the signal ends it", async () => {
    const runs = await Promise.all([
      cli(["--once", "--config", fifo], { stop: { signal: "SIGTERM", afterMs: 1000 } }),
      cli(["--export-prom", "127.0.0.1:0"], { env: { DB_HEALTH_DSN_FILE: fifo }, stop: { signal: "SIGTERM", afterMs: 1000 } }),
    ]);
    for (const r of runs) {
      expect(r.signal, r.stderr).toBeNull();
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/cannot read ".*fifo": it is a FIFO, not a regular file/);
    }
  });
});

describe("flags a mode would ignore, and what cannot be listened on: exit 3 before anything binds", () => {
  const only = async (args: string[], env: Record<string, string> = {}): Promise<string[]> => {
    const r = await cli(args, { env, timeoutMs: 10_000 });
    expect(r.signal, `${args.join(" ")}: ${r.stderr}`).toBeNull();
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).not.toContain('"msg":"serving');
    return r.stderr.startsWith("healthcheck: invalid configuration:") ? problems(r) : [r.stderr.trimEnd()];
  };
  const dsn = ["--dsn", ":memory:"];

  it("an address that cannot be a host, from the flag, the variable or the YAML file", async () => {
    const yaml = file("listen.yaml", 'listen: "999.1.1.1:20001"\ntargets: [{ dsn: ":memory:" }]\n');
    const why = '"999.1.1.1:20001": 999.1.1.1 is not an IPv4 address (four numbers from 0 to 255, e.g. 127.0.0.1)';
    expect(await only(["--export-prom", "999.1.1.1:20001", ...dsn])).toEqual([`--export-prom: ${why}`]);
    expect(await only([...dsn], { DB_HEALTH_LISTEN: "999.1.1.1:20001" })).toEqual([`DB_HEALTH_LISTEN: ${why}`]);
    expect(await only(["config", "check", yaml])).toEqual([`${yaml}: listen (line 1): ${why}`]);
  });

  it("an address no client can connect to, and one the system refuses", async () => {
    for (const [listen, why] of [
      ["224.0.0.1:20001", "224.0.0.1 is a multicast address"],
      ["255.255.255.255:20001", "255.255.255.255 is a broadcast or reserved address"],
      ["[ff02::1]:20001", "[ff02::1] is a multicast address"],
    ]) {
      expect(await only(["--export-prom", listen!, ...dsn])).toEqual([expect.stringContaining(`--export-prom: "${listen}": ${why}: no client can connect to it`)]);
    }
    expect(await only(["--export-prom", "[fe80::1]:20001", ...dsn])).toEqual([
      "healthcheck: cannot listen for --export-prom [fe80::1]:20001: the system refuses this address (EINVAL): a link-local IPv6 address needs its interface, e.g. [fe80::1%eth0]",
    ]);
  });

  it("a host name that does not resolve", async () => {
    expect(await only(["--export-prom", "no-such-host.invalid:20001", ...dsn])).toEqual([
      expect.stringMatching(/^healthcheck: cannot listen for --export-prom no-such-host\.invalid:20001: host not found/),
    ]);
  });

  it("--degraded-ok and --format without --once", async () => {
    expect(await only(["--export-prom", "127.0.0.1:0", "--degraded-ok", ...dsn])).toEqual(["--degraded-ok: only applies with --once"]);
    expect(await only(["--export-prom", "127.0.0.1:0", "--format", "json", ...dsn])).toEqual(["--format: only applies with --once"]);
  });

  it("nothing, or an empty name, to wrap after --", async () => {
    const line = "nothing to wrap after --: name the program (e.g. healthcheck -- docker-entrypoint.sh postgres), or drop the --";
    expect(await only(["--export-prom", "127.0.0.1:0", ...dsn, "--"])).toEqual([line]);
    expect(await only(["--export-prom", "127.0.0.1:0", ...dsn, "--", ""])).toEqual([line]);
  });

  it("the daemon's flags with --once, target flags with status, a listen address with a status URL", async () => {
    expect(await only(["--once", "--export-prom", ":9100", "--log-level", "debug", ...dsn])).toEqual([
      "--export-prom: does not apply with --once (it configures the daemon): drop it, or drop --once",
      "--log-level: does not apply with --once (it configures the daemon): drop it, or drop --once",
    ]);
    expect(await only(["status", ...dsn])).toEqual(['--dsn: not used by "status", which only asks a running daemon: drop it']);
    expect(await only(["status", "http://127.0.0.1:1/readyz", "--export-prom", ":9100"])).toEqual(['--export-prom: not used by "status" when it is given a URL: drop one of them']);
  });
});

describe("YAML limits: rejected at once, one line, exit 3", () => {
  const check = async (text: string): Promise<string[]> => {
    const path = file("limits.yaml", text);
    const r = await cli(["config", "check", path], { timeoutMs: 20_000 });
    expect(r.signal, r.stderr.slice(0, 500)).toBeNull();
    expect(r.code, r.stderr.slice(0, 500)).toBe(3);
    return problems(r).map((l) => l.replace(path, "FILE"));
  };
  const deep = 'nested deeper than 64 levels (a configuration needs 5): look for an unclosed "[" or "{" or runaway indentation';

  it("100,000 levels of [ or of - ", async () => {
    expect(await check(`targets: ${"[".repeat(100_000)}\n`)).toEqual([`FILE (line 1): ${deep}`]);
    expect(await check(`targets:\n${"- ".repeat(100_000)}x\n`)).toEqual([`FILE (line 2): ${deep}`]);
  });

  it("600,000 tiny targets in a file under 8 MiB", async () => {
    expect(await check(`targets:\n${"- {}\n".repeat(600_000)}`)).toEqual([
      "FILE: targets (line 10002): more than 10,000 targets, the most one healthcheck process probes: split them over several processes",
    ]);
  });

  it("one mapping of 20,000 keys (the parser's duplicate check is quadratic)", async () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `  k${i}: 1`).join("\n");
    expect(await check(`defaults:\n${keys}\n`)).toEqual(["FILE (line 258): a mapping of more than 256 keys, the most any mapping may hold"]);
  });

  it("more than 10,000 --dsn flags", async () => {
    const r = await cli(["config", "check", file("empty.yaml", ""), ...Array.from({ length: 10_001 }, () => ["--dsn", ":memory:"]).flat()]);
    expect(r.code).toBe(3);
    expect(problems(r)).toEqual(["--dsn: 10,001 targets, more than the 10,000 one healthcheck process probes: split them over several processes"]);
  });
});
