import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blackholeServer, refusedPort, waitFor, type BlackholeServer } from "@alfred/db-health-testkit";
import { writeReport, writeSweepSection } from "./matrix/record.js";

// The secret sweep: the real CLI in every mode, fed passwords in every credential form it
// parses, against reachable servers (the machine's PostgreSQL and MariaDB, a misbehaving plugin)
// and unreachable ones (a refused port, a blackhole listener). Everything the CLI writes —
// stdout, stderr, JSON logs, every HTTP endpoint's body and headers, error exits, crashes — is
// collected, and no password may appear in it, raw, URL-encoded or JSON-escaped.
const CLI = fileURLToPath(new URL("../../../apps/healthcheck/dist/cli.cjs", import.meta.url));
const LEAKY = fileURLToPath(new URL("./__fixtures__/leaky-plugin.mjs", import.meta.url));
// The CLI's workspace copy has no SQL Server driver installed beside it: load it as a plugin file.
const MSSQL = fileURLToPath(new URL("../../../packages/driver-mssql/dist/index.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "dbh-sweep-"));
const MYSQL_USER = `sweep_${process.pid}`;

let n = 0;
/** a distinct password per form; some carry the characters that need escaping in URLs, JSON and key=value strings */
const secret = (special = false): string => `Sw33p${++n}${special ? `:@/?#%&=;{}"'\\ ` : ""}X${Math.random().toString(36).slice(2, 8)}`;
const allSecrets: string[] = [];
const track = (s: string): string => (allSecrets.push(s), s);
/**
 * A password made of everything that breaks a DSN's syntax (spaces, both quotes, ";", "=", "@",
 * ":", "/", "?", "#", "&", "%", braces, a backslash, non-ASCII), between two markers that are
 * tracked on their own: a password cut in two (its tail taken for a host, a key or the text after
 * a quote) leaves one marker behind, which a check for the whole password would miss.
 */
const hostile = (): string => {
  const tag = `${++n}${Math.random().toString(36).slice(2, 7)}`;
  const [head, tail] = [track(`HxA${tag}`), track(`TxZ${tag}`)];
  return track(`${head} a"b'c;d=e@f:g/h?i#j&k%l{m}n\\o äé🔑 ${tail}`);
};
/** forms × output paths that were checked, for the closing summary */
const swept = new Map<string, Set<string>>();

const spellings = (s: string): string[] => [...new Set([s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1), s.replace(/ /g, "+")])];

function expectClean(form: string, path: string, output: string): void {
  for (const s of allSecrets) {
    for (const spelled of spellings(s)) {
      if (output.includes(spelled)) {
        const at = output.indexOf(spelled);
        throw new Error(`${form} / ${path}: a password appears in the output: …${output.slice(Math.max(0, at - 120), at + spelled.length + 40)}…`);
      }
    }
  }
  if (!swept.has(form)) swept.set(form, new Set());
  swept.get(form)!.add(path);
}

interface Run {
  code: number | null;
  /** stdout and stderr interleaved, plus what was collected over HTTP */
  out: string;
  stdout: string;
}

function cli(args: string[], env: Record<string, string> = {}, opts: { timeoutMs?: number; untilLog?: RegExp; onReady?: (logs: string) => Promise<string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env["PATH"] ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let stdout = "";
    let extra = "";
    child.stdout.on("data", (b: Buffer) => ((out += b.toString()), (stdout += b.toString())));
    child.stderr.on("data", (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 20_000);
    if (opts.onReady) {
      const ready = opts.onReady;
      void waitFor("the daemon to log its address", async () => out, (o) => (opts.untilLog ?? /"metrics":"http/).test(o), 15_000)
        .then(() => ready(out))
        .then((collected) => (extra = collected))
        .catch((err: unknown) => (extra = `collection failed: ${String(err)}`))
        .finally(() => child.kill("SIGTERM"));
    }
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      // let the collection finish appending (it ends by sending SIGTERM, so it is done)
      setImmediate(() => resolve({ code, out: `${out}\n${extra}`, stdout }));
    });
  });
}

/** every HTTP path of a running daemon, bodies and headers, for each target name */
async function collectHttp(logs: string, targets: string[]): Promise<string> {
  const base = /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(logs)![1]!;
  // a couple of cycles so failures have happened and are reported
  await new Promise((r) => setTimeout(r, 700));
  const paths = ["/metrics", "/health", "/readyz", "/healthz", "/probe?target=no-such-target", "/nope", ...targets.map((t) => `/probe?target=${encodeURIComponent(t)}`)];
  let text = "";
  for (const p of paths) {
    const res = await fetch(`${base}${p}`).catch(() => undefined);
    if (!res) continue;
    text += `\n== ${p} ${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n${await res.text()}`;
  }
  return text;
}

const FAST = ["--connect-timeout", "1s", "--read-timeout", "1s", "--write-timeout", "1s", "--max-retries", "1", "--retry-interval", "50ms"];

/** runs the form in --once text, --once json and the daemon (logs + HTTP), checking each output */
async function sweepModes(form: string, targetArgs: string[], env: Record<string, string>, names: string[]): Promise<void> {
  const text = await cli(["--once", ...FAST, ...targetArgs], env);
  expect([0, 1], text.out).toContain(text.code);
  expectClean(form, "--once text", text.out);
  const json = await cli(["--once", "--format", "json", ...FAST, ...targetArgs], env);
  expect([0, 1], json.out).toContain(json.code);
  expect(() => JSON.parse(json.stdout), json.out).not.toThrow();
  expectClean(form, "--once json", json.out);
  const daemon = await cli(["--export-prom", "127.0.0.1:0", "--interval", "200ms", "--log-level", "debug", ...FAST, ...targetArgs], env, {
    onReady: (logs) => collectHttp(logs, names),
  });
  expect(daemon.out).toMatch(/== \/metrics 200/);
  expectClean(form, "daemon logs + /metrics /probe /health /readyz /healthz", daemon.out);
}

let mysqlAdmin: mysql.Connection;
let hole: BlackholeServer;
let refused = 0;
const mysqlPassword = track(secret(true));

beforeAll(async () => {
  hole = await blackholeServer();
  refused = await refusedPort();
  mysqlAdmin = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root", database: "test" });
  await mysqlAdmin.query("DROP USER IF EXISTS ?@'127.0.0.1'", [MYSQL_USER]);
  await mysqlAdmin.query("CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?", [MYSQL_USER, mysqlPassword]);
  await mysqlAdmin.query("GRANT ALL ON test.* TO ?@'127.0.0.1'", [MYSQL_USER]);
}, 30_000);

afterAll(async () => {
  await mysqlAdmin?.query("DROP USER IF EXISTS ?@'127.0.0.1'", [MYSQL_USER]).catch(() => undefined);
  await mysqlAdmin?.end();
  await hole?.close();
  rmSync(dir, { recursive: true, force: true });
  const paths = [...swept.values()].reduce((a, s) => a + s.size, 0);
  writeReport("secret-sweep.txt", `${swept.size} forms, ${paths} form × output-path checks, ${allSecrets.length} passwords\n`);
  // The section docs/fault-matrix.md shows (render.ts appends it when the whole suite ran).
  const rows = [...swept].map(([form, outputs]) => `| ${form.replace(/\|/g, "\\|")} | ${[...outputs].join("; ").replace(/\|/g, "\\|")} |`);
  writeSweepSection(
    [
      "## Secret sweep",
      "",
      `${swept.size} credential forms, ${paths} form × output-path checks, ${allSecrets.length} distinct passwords (and their URL-encoded and JSON-escaped`,
      "spellings, and the separately tracked first and last pieces of the hostile ones): none appears in any output.",
      "",
      "| Credential form | Outputs checked |",
      "|---|---|",
      ...rows,
      "",
    ].join("\n"),
  );
  console.log(`secret sweep: ${swept.size} credential forms, ${paths} form × output-path checks, ${allSecrets.length} distinct passwords, none printed`);
});

const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
};

describe("secret sweep", () => {
  it("DSN forms on the command line, reachable and unreachable, every engine", async () => {
    const e = encodeURIComponent;
    const s = Array.from({ length: 12 }, (_, i) => track(secret(i % 2 === 0)));
    const dsns: Array<[string, string]> = [
      ["pg-url", `postgres://postgres:${e(s[0]!)}@127.0.0.1:5432/test`],
      ["pg-query", `postgresql://postgres@127.0.0.1:5432/test?password=${e(s[1]!)}`],
      ["pg-refused", `postgres://postgres:${e(s[2]!)}@127.0.0.1:${refused}/test`],
      ["pg-blackhole", `postgres://postgres:${e(s[3]!)}@127.0.0.1:${hole.port}/test`],
      ["my-go", `mysql://${MYSQL_USER}:${e(mysqlPassword)}@tcp(127.0.0.1:3306)/test`],
      ["my-wrong", `mariadb://${MYSQL_USER}:${e(s[4]!)}@127.0.0.1:3306/test`],
      ["my-refused", `mysql://root:${e(s[5]!)}@tcp(127.0.0.1:${refused})/test`],
      ["ms-url", `sqlserver://sa:${e(s[6]!)}@127.0.0.1:${refused}/master`],
      ["ms-query", `mssql://127.0.0.1:${hole.port}?database=master&user=sa&password=${e(s[7]!)}`],
      ["ms-ado", `Server=127.0.0.1,${refused};Database=master;User Id=sa;Password=${s[8]!.replace(/[;{}"' \\]/g, "")};`],
      ["ms-ado-braced", `Server=127.0.0.1,${refused};Database=master;User Id=sa;Pwd={${s[9]!.replace(/[{}]/g, "")}};`],
    ];
    track(s[8]!.replace(/[;{}"' \\]/g, ""));
    track(s[9]!.replace(/[{}]/g, ""));
    const args = ["--plugin", MSSQL, ...dsns.flatMap(([name, dsn]) => ["--dsn", dsn, "--name", name])];
    await sweepModes("DSNs in --dsn (11 forms)", args, {}, dsns.map(([name]) => name));
  }, 120_000);

  it("passwords from environment variables and files", async () => {
    const pgpass = track(secret(true));
    const mypwd = track(secret(true));
    await sweepModes("PGPASSWORD and MYSQL_PWD", ["--dsn", "postgres://postgres@127.0.0.1:5432/test", "--dsn", `mysql://root@tcp(127.0.0.1:${refused})/test`], { PGPASSWORD: pgpass, MYSQL_PWD: mypwd }, ["postgres", "mysql"]);
    const pgfile = track(secret(true));
    await sweepModes("PGPASSWORD_FILE", ["--dsn", `postgres://postgres@127.0.0.1:${refused}/test`], { PGPASSWORD_FILE: file("pgpass", `${pgfile}\n`) }, ["postgres"]);
    const envDsn = track(secret(true));
    await sweepModes("DB_HEALTH_DSN", [], { DB_HEALTH_DSN: `postgres://postgres:${encodeURIComponent(envDsn)}@127.0.0.1:5432/test` }, ["postgres"]);
    const dsnFile = track(secret(true));
    await sweepModes("DB_HEALTH_DSN_FILE", [], { DB_HEALTH_DSN_FILE: file("dsn", `mysql://${MYSQL_USER}:${encodeURIComponent(dsnFile)}@tcp(127.0.0.1:3306)/test\n`) }, ["mysql"]);
    const image = track(secret(true));
    await sweepModes("POSTGRES_PASSWORD (image variables)", [], { POSTGRES_PASSWORD: image, POSTGRES_USER: "postgres", POSTGRES_DB: "test" }, ["postgres"]);
    const imageFile = track(secret(true));
    await sweepModes("MARIADB_ROOT_PASSWORD_FILE (image variables)", [], { MARIADB_ROOT_PASSWORD_FILE: file("rootpw", imageFile), MARIADB_DATABASE: "test", MYSQL_TCP_PORT: String(refused) }, ["mysql"]);
  }, 180_000);

  it("a YAML file with dsn, passwordFile and dsnFile targets, and config check", async () => {
    const [a, b, c] = [track(secret(true)), track(secret(true)), track(secret(true))];
    const yaml = file(
      "healthcheck.yaml",
      [
        "targets:",
        `  - name: inline`,
        `    dsn: ${JSON.stringify(`postgres://postgres:${encodeURIComponent(a)}@127.0.0.1:5432/test`)}`,
        `  - name: pwfile`,
        `    dsn: mysql://${MYSQL_USER}@tcp(127.0.0.1:3306)/test`,
        `    passwordFile: ${file("yaml-pw", b)}`,
        `  - name: dsnfile`,
        `    dsnFile: ${file("yaml-dsn", `sqlserver://sa:${encodeURIComponent(c)}@127.0.0.1:${refused}/master`)}`,
        "",
      ].join("\n"),
    );
    await sweepModes("YAML targets (dsn, passwordFile, dsnFile)", ["--config", yaml, "--plugin", MSSQL], {}, ["inline", "pwfile", "dsnfile"]);
    const checked = await cli(["config", "check", yaml, "--plugin", MSSQL]);
    expect(checked.code, checked.out).toBe(0);
    expectClean("YAML targets (dsn, passwordFile, dsnFile)", "config check", checked.out);
    // Readable by everyone: a warning that names the key, not the password.
    chmodSync(yaml, 0o644);
    const exposed = await cli(["config", "check", yaml, "--plugin", MSSQL]);
    expect(exposed.code, exposed.out).toBe(0);
    expect(exposed.out).toMatch(/healthcheck: warning: .*healthcheck\.yaml: is readable by every user \(mode 0644\) and holds passwords \(targets\[0\]\.dsn\)/);
    expectClean("YAML targets (dsn, passwordFile, dsnFile)", "config check warning (mode 0644)", exposed.out);
  }, 120_000);

  it("invalid configurations: every error exit and config check error", async () => {
    const s = Array.from({ length: 7 }, () => track(secret(true)));
    const e = encodeURIComponent;
    const bad = await cli([
      "--once",
      "--dsn", `postgres://u:${e(s[0]!)}@127.0.0.1:5432/db?sslmode=bogus`,
      "--dsn", `mysql://u:${e(s[1]!)}@tcp(127.0.0.1:3306)/x?tls=maybe`,
      "--dsn", `oracle://u:${e(s[2]!)}@127.0.0.1/db`,
      "--dsn", `postgres://u:${e(s[3]!)}@[::1/db`,
      "--dsn", `Server=127.0.0.1;Password=${s[4]!.replace(/[;{}"' \\]/g, "")};Bogus=1`,
    ]);
    track(s[4]!.replace(/[;{}"' \\]/g, ""));
    expect(bad.code, bad.out).toBe(3);
    expectClean("invalid DSNs (5 forms)", "error exit (--once)", bad.out);
    const yaml = file(
      "bad.yaml",
      [
        "listen: nowhere",
        "targets:",
        "  - name: t1",
        `    dsn: ${JSON.stringify(`postgres://u:${e(s[5]!)}@127.0.0.1:5432/db?nope=1`)}`,
        `    password: ${JSON.stringify(s[6])}`,
        "    readTimeout: soon",
        "",
      ].join("\n"),
    );
    const checked = await cli(["config", "check", yaml]);
    expect(checked.code, checked.out).toBe(3);
    expectClean("YAML with bad settings and a password under an unknown key", "config check errors", checked.out);
    const daemon = await cli(["--config", yaml]);
    expect(daemon.code, daemon.out).toBe(3);
    expectClean("YAML with bad settings and a password under an unknown key", "error exit (daemon)", daemon.out);
    const status = await cli(["status", `http://admin:${e(s[0]!)}@127.0.0.1:${refused}/readyz`]);
    expect(status.code).toBe(1);
    expectClean("status URL with credentials", "status (unreachable)", status.out);
  }, 60_000);

  it("hostile passwords in every DSN dialect, with and without a scheme, raw and encoded, through every channel", async () => {
    const e = encodeURIComponent;
    const pw = Array.from({ length: 16 }, () => hostile());
    // Forms that parse and name a server: probed for real (trust auth on PostgreSQL takes any
    // password; the MariaDB user has this one) or against refused and blackholed ports.
    const myUser = `${MYSQL_USER}_h`;
    await mysqlAdmin.query("DROP USER IF EXISTS ?@'127.0.0.1'", [myUser]);
    await mysqlAdmin.query("CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?", [myUser, pw[1]]);
    await mysqlAdmin.query("GRANT ALL ON test.* TO ?@'127.0.0.1'", [myUser]);
    try {
      const probed: Array<[string, string]> = [
        ["pg-encoded", `postgres://postgres:${e(pw[0]!)}@127.0.0.1:5432/test`],
        ["my-encoded", `mysql://${myUser}:${e(pw[1]!)}@tcp(127.0.0.1:3306)/test`],
        ["pg-query-encoded", `postgres://postgres@127.0.0.1:${refused}/test?password=${e(pw[2]!)}`],
        ["ms-ado-quoted", `Server=127.0.0.1,${refused};User Id=sa;Password="${pw[3]!.replace(/"/g, '""')}";`],
        ["ms-ado-braced", `Server=127.0.0.1,${hole.port};User Id=sa;Password={${pw[4]!.replace(/\}/g, "}}")}};`],
      ];
      await sweepModes("hostile passwords: DSN forms that parse (5)", ["--plugin", MSSQL, ...probed.flatMap(([name, dsn]) => ["--dsn", dsn, "--name", name])], {}, probed.map(([name]) => name));
      // Written raw, or without a scheme: each is refused (exit 3) or probed, and either way
      // shows no piece of the password, through every channel a DSN comes from.
      const raw: Array<[string, string]> = [
        ["pg-raw", `postgres://postgres:${pw[5]}@127.0.0.1:${refused}/test`],
        ["my-go-raw", `mysql://root:${pw[6]}@tcp(127.0.0.1:${refused})/test`],
        ["go-no-scheme", `root:${pw[7]}@tcp(127.0.0.1:3306)/test`],
        ["url-no-scheme", `postgres:${pw[8]}@127.0.0.1:5432/test`],
        ["mistyped-scheme", `postgres//postgres:${pw[9]}@127.0.0.1/test`],
        ["libpq-quoted", `host=127.0.0.1 password='${pw[10]}' user=postgres`],
        ["libpq-plain", `host=127.0.0.1 user=postgres password=${pw[11]}`],
        ["ado-plain", `Server=127.0.0.1,${refused};User Id=sa;Password=${pw[12]};Encrypt=true`],
        ["query-raw", `postgres://postgres@127.0.0.1:${refused}/test?password=${pw[13]}&sslmode=disable`],
        ["sqlite-password", `file:${join(dir, "h.db")}?mode=rwc&password=${e(pw[14]!)}`],
        ["quoted-dsn", `"postgres://postgres:${pw[15]}@127.0.0.1/test"`],
      ];
      for (const [name, dsn] of raw) {
        const form = `hostile password, ${name}`;
        const yaml = file(`hostile-${name}.yaml`, `targets:\n  - name: t\n    dsn: ${JSON.stringify(dsn)}\n`);
        const dsnFile = file(`hostile-${name}.dsn`, `${dsn}\n`);
        const runs: Array<[string, string[], Record<string, string>]> = [
          ["--once text (--dsn)", ["--once", ...FAST, "--plugin", MSSQL, "--dsn", dsn], {}],
          ["--once json (--dsn)", ["--once", "--format", "json", ...FAST, "--plugin", MSSQL, "--dsn", dsn], {}],
          ["--once (DB_HEALTH_DSN)", ["--once", ...FAST, "--plugin", MSSQL], { DB_HEALTH_DSN: dsn }],
          ["--once (DB_HEALTH_DSN_FILE)", ["--once", ...FAST, "--plugin", MSSQL], { DB_HEALTH_DSN_FILE: dsnFile }],
          ["config check (YAML dsn)", ["config", "check", yaml, "--plugin", MSSQL], {}],
        ];
        for (const [path, args, env] of runs) {
          const r = await cli(args, env);
          expect([0, 1, 3], `${form} / ${path}: ${r.out}`).toContain(r.code);
          expectClean(form, path, r.out);
        }
        const daemon = await cli(["--export-prom", "127.0.0.1:0", "--interval", "200ms", ...FAST, "--plugin", MSSQL, "--dsn", dsn, "--name", "t"], {}, { onReady: (logs) => collectHttp(logs, ["t"]), timeoutMs: 15_000 });
        expectClean(form, "daemon (start-up error or logs + HTTP)", daemon.out);
      }
      // A hostile password from a file, spliced into YAML targets of each server dialect.
      const spliced = hostile();
      const pwFile = file("hostile-pw", `${spliced}\n`);
      const yaml = file(
        "hostile-splice.yaml",
        [
          "targets:",
          "  - name: pg",
          `    dsn: postgres://postgres@127.0.0.1:5432/test`,
          `    passwordFile: ${pwFile}`,
          "  - name: my",
          `    dsn: mysql://root@tcp(127.0.0.1:${refused})/test`,
          `    passwordFile: ${pwFile}`,
          "  - name: ms",
          `    dsn: Server=127.0.0.1,${refused};User Id=sa;`,
          `    passwordFile: ${pwFile}`,
          "",
        ].join("\n"),
      );
      await sweepModes("hostile password in passwordFile (3 dialects)", ["--config", yaml, "--plugin", MSSQL], {}, ["pg", "my", "ms"]);
      const checked = await cli(["config", "check", yaml, "--plugin", MSSQL]);
      expect(checked.code, checked.out).toBe(0);
      expectClean("hostile password in passwordFile (3 dialects)", "config check", checked.out);
      const image = hostile();
      await sweepModes("hostile POSTGRES_PASSWORD_FILE (image variables)", [], { POSTGRES_PASSWORD_FILE: file("hostile-image", image), POSTGRES_USER: "postgres", POSTGRES_DB: "test" }, ["postgres"]);
    } finally {
      await mysqlAdmin.query("DROP USER IF EXISTS ?@'127.0.0.1'", [myUser]).catch(() => undefined);
    }
  }, 300_000);

  it("modules: a hostile password in passwordFile, through config check, the daemon's logs and every /probe?module= answer", async () => {
    const pw = hostile();
    // the MariaDB user really has this password: the module logs in with it
    const myUser = `${MYSQL_USER}_m`;
    await mysqlAdmin.query("DROP USER IF EXISTS ?@'127.0.0.1'", [myUser]);
    await mysqlAdmin.query("CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?", [myUser, pw]);
    await mysqlAdmin.query("GRANT ALL ON test.* TO ?@'127.0.0.1'", [myUser]);
    const wrong = hostile();
    try {
      const pwFile = file("module-pw", `${pw}\n`);
      const wrongFile = file("module-wrong", `${wrong}\n`);
      const yaml = file(
        "modules.yaml",
        [
          "modules:",
          "  my:",
          "    engine: mariadb",
          `    user: ${myUser}`,
          `    passwordFile: ${pwFile}`,
          "    database: test",
          `    allow: { cidrs: [127.0.0.1], ports: [3306, ${refused}, ${hole.port}] }`,
          "    settings: { connectTimeout: 1s, maxRetries: 1, retryInterval: 50ms }",
          "  pg:",
          "    engine: postgres",
          "    user: postgres",
          `    passwordFile: ${pwFile}`,
          "    database: test",
          "    params: { sslmode: disable }",
          `    allow: { cidrs: [127.0.0.1], ports: [5432, ${refused}] }`,
          "  wrong:",
          "    engine: mysql",
          `    user: ${myUser}`,
          `    passwordFile: ${wrongFile}`,
          "    allow: { cidrs: [127.0.0.1], databases: [\"*\"] }",
          "",
        ].join("\n"),
      );
      const form = "hostile password in a module's passwordFile (3 modules)";
      const checked = await cli(["config", "check", yaml]);
      expect(checked.code, checked.out).toBe(0);
      expectClean(form, "config check", checked.out);
      const queries = [
        "module=my&target=127.0.0.1:3306/test",
        `module=my&target=127.0.0.1:${refused}/test`,
        `module=my&target=127.0.0.1:${hole.port}/test`,
        "module=pg&target=127.0.0.1:5432/test",
        `module=pg&target=127.0.0.1:${refused}`,
        "module=wrong&target=127.0.0.1:3306/test",
        "module=pg&target=127.0.0.2:5432/test",
        `module=pg&target=${encodeURIComponent(`postgres://postgres:${pw}@127.0.0.1:5432/test`)}`,
        `module=nope${encodeURIComponent(pw)}&target=127.0.0.1:5432`,
      ];
      const daemon = await cli(["--config", yaml, "--export-prom", "127.0.0.1:0", "--log-level", "debug"], {}, {
        onReady: async (logs) => {
          const base = /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(logs)![1]!;
          let text = "";
          // each answer under its query's index: the last two queries hold the password themselves
          for (const [i, q] of queries.entries()) {
            const res = await fetch(`${base}/probe?${q}`, { headers: { "x-prometheus-scrape-timeout-seconds": "2" } });
            text += `\n== query ${i} ${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n${await res.text()}`;
          }
          for (const p of ["/metrics", "/", "/health", "/readyz"]) text += `\n== ${p}\n${await (await fetch(`${base}${p}`)).text()}`;
          return text;
        },
      });
      expect(daemon.out).toMatch(/== query 0 200[^]*db_up\{db_name="mysql",db_role="primary",target="127\.0\.0\.1:3306\/test",module="my"\} 1/);
      expect(daemon.out).toMatch(/== query 5 200[^]*db_up\{[^}]*module="wrong"\} 0/);
      expect(daemon.out).toMatch(/== query 6 403/);
      expect(daemon.out).toMatch(/== query 7 400[^]*== query 8 400/);
      expectClean(form, "daemon logs, /probe?module= (up, down: refused, blackhole, wrong password; 403; 400), /metrics, /, /health, /readyz", daemon.out);
      // a module with problems: every error line, never the password
      const bad = file("modules-bad.yaml", ["modules:", "  pg:", "    engine: postgres", `    password: ${JSON.stringify(pw)}`, `    passwordFile: ${pwFile}`, `    params: { password: ${JSON.stringify(pw)}, sslmode: bogus }`, "    allow: { cidrs: [10.1.2.3/8] }", ""].join("\n"));
      const refusedCheck = await cli(["config", "check", bad]);
      expect(refusedCheck.code, refusedCheck.out).toBe(3);
      expectClean(form, "config check errors", refusedCheck.out);
    } finally {
      await mysqlAdmin.query("DROP USER IF EXISTS ?@'127.0.0.1'", [myUser]).catch(() => undefined);
    }
  }, 120_000);

  it("a plugin that puts the DSN and password in its errors, throws non-Errors, and crashes", async () => {
    const modes = ["throw", "object", "string", "ping", "write", "detail", "unhandled", "warning"];
    const s = modes.map(() => track(secret(false)));
    const args = ["--plugin", LEAKY, ...modes.flatMap((m, i) => ["--dsn", `leaky://bob:${s[i]}@db.internal/app?mode=${m}`, "--name", m])];
    await sweepModes("misbehaving plugin (8 failure styles)", args, {}, modes);
    // A throw from a timer, outside any probe: the process cannot go on; it must still say why
    // in one redacted line and exit non-zero, without a stack trace.
    const crash = track(secret(false));
    for (const mode of [["--once"], ["--export-prom", "127.0.0.1:0", "--interval", "200ms"]]) {
      const r = await cli([...mode, "--plugin", LEAKY, "--dsn", `leaky://bob:${crash}@db.internal/app?mode=async-crash`]);
      expect(r.code, r.out).toBe(1);
      expect(r.out).toMatch(/internal error, exiting \(a driver bug\?\): timer crash with leaky:\/\/bob:\*\*\*@db\.internal\/app and \*\*\*|"msg":"uncaught exception"/);
      expect(r.out).not.toMatch(/\n\s+at .+:\d+:\d+/);
      expectClean("plugin throwing from a timer (uncaught exception)", `crash exit (${mode[0]})`, r.out);
    }
  }, 120_000);

  it("wrapper mode: the child's output and the wrapper's logs", async () => {
    const s = track(secret(true));
    const r = await cli(["--export-prom", "127.0.0.1:0", "--interval", "200ms", ...FAST, "--dsn", `postgres://postgres:${encodeURIComponent(s)}@127.0.0.1:${refused}/test`, "--", process.execPath, "-e", "setTimeout(() => process.exit(7), 800)"]);
    expect(r.code, r.out).toBe(7); // the child's own code, not one of the CLI's
    expectClean("wrapper with a DSN", "wrapper logs and exit", r.out);
    // A driver crash in wrapper mode: the child is stopped cleanly first, then exit 1, redacted.
    const crash = track(secret(false));
    const child = "process.on('SIGTERM', () => { console.log('child got SIGTERM'); process.exit(0); }); console.log('child up'); setInterval(() => {}, 1000);";
    const c = await cli(["--export-prom", "127.0.0.1:0", "--interval", "300ms", "--plugin", LEAKY, "--dsn", `leaky://bob:${crash}@db.internal/app?mode=async-crash&delay=1500`, "--", process.execPath, "-e", child]);
    expect(c.code, c.out).toBe(1);
    expect(c.out).toMatch(/child up[^]*child got SIGTERM/);
    expect(c.out).toMatch(/"msg":"uncaught exception"/);
    expectClean("plugin throwing from a timer (uncaught exception)", "crash exit (wrapper: child stopped first)", c.out);
  }, 60_000);
});
