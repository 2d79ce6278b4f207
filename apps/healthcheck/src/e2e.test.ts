import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "./__fixtures__/cli-path.js";

// The real CLI process against the machine's PostgreSQL and SQLite, spoken to over HTTP(S).
const PG = "postgres://postgres@127.0.0.1:5432/test";
const dir = mkdtempSync(join(tmpdir(), "dbh-e2e-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = (extra: Record<string, string> = {}) => ({ ...process.env, DB_HEALTH_DSN: "", DB_HEALTH_CONFIG: "", ...extra });
const run = (args: string[], extra: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 30_000, env: env(extra) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const sql = async <T extends pg.QueryResultRow>(text: string): Promise<T[]> => {
  const c = new pg.Client({ connectionString: PG });
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
};

let daemon: ChildProcess | undefined;
afterEach(() => daemon?.kill("SIGKILL"));
const start = async (args: string[], extra: Record<string, string> = {}): Promise<{ base: string; exit: Promise<number | null>; logs: () => string }> => {
  daemon = spawn(process.execPath, [CLI, "--export-prom", "127.0.0.1:0", ...args], { stdio: ["ignore", "pipe", "pipe"], env: env(extra) });
  let logs = "";
  daemon.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
  const exit = new Promise<number | null>((resolve) => daemon!.once("exit", resolve));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const m = /"metrics":"(https?:\/\/[^"]+)\/metrics"/.exec(logs);
    if (m) return { base: m[1]!, exit, logs: () => logs };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`daemon did not start: ${logs}`);
};

describe("configuration end to end", () => {
  it("takes targets from flags over environment over the YAML file", () => {
    const file = join(dir, "precedence.yaml");
    writeFileSync(file, `targets:\n  - name: from-yaml\n    dsn: file:${dir}/yaml.db?mode=rwc\n`);
    const names = (r: { stdout: string }) => (JSON.parse(r.stdout) as { targets: Array<{ target: string }> }).targets.map((t) => t.target);
    expect(names(run(["--once", "--format", "json", "--config", file]))).toEqual(["from-yaml"]);
    expect(names(run(["--once", "--format", "json", "--config", file], { DB_HEALTH_DSN: `file:${dir}/env.db?mode=rwc` }))).toEqual(["sqlite"]);
    expect(names(run(["--once", "--format", "json", "--config", file, "--dsn", `file:${dir}/flag.db?mode=rwc`, "--name", "from-flag"], { DB_HEALTH_DSN: `file:${dir}/env.db?mode=rwc` }))).toEqual(["from-flag"]);
  });

  it("config check validates without connecting: 0 when valid, 3 with every problem", () => {
    const good = join(dir, "good.yaml");
    writeFileSync(good, `targets:\n  - name: main\n    dsn: postgres://app:S3cret-pw@db.invalid:5432/app\n`);
    const ok = run(["config", "check", good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("configuration is valid: 1 target(s): main");
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, `targets:\n  - name: main\n    dsn: postgres://app:S3cret-pw@db.invalid:5432/app\n    readTimeout: 5x\n    conectTimeout: 1s\n`);
    const r = run(["config", "check", bad]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("readTimeout");
    expect(r.stderr).toMatch(/conectTimeout.*connectTimeout/);
    expect(r.stderr + r.stdout).not.toContain("S3cret-pw");
  });

  it("config check names at most 20 targets on its one line, then how many more", () => {
    const many = join(dir, "many.yaml");
    writeFileSync(many, `targets:\n${Array.from({ length: 25 }, (_, i) => `  - name: t${i + 1}\n    dsn: postgres://app@db.invalid:5432/app\n`).join("")}`);
    const r = run(["config", "check", many]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`configuration is valid: 25 target(s): ${Array.from({ length: 20 }, (_, i) => `t${i + 1}`).join(", ")} … and 5 more\n`);
  });
});

describe("daemon end to end", () => {
  beforeAll(async () => {
    // A table of its own with a trigger counting every write the database performs.
    await sql(`DROP TABLE IF EXISTS dbh_storm; DROP TABLE IF EXISTS dbh_storm_writes;
      CREATE TABLE dbh_storm (probe_id text PRIMARY KEY, token text NOT NULL, checked_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE dbh_storm_writes (n int NOT NULL); INSERT INTO dbh_storm_writes VALUES (0);
      CREATE OR REPLACE FUNCTION dbh_storm_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE dbh_storm_writes SET n = n + 1; RETURN NEW; END $$;
      CREATE TRIGGER dbh_storm_count AFTER INSERT OR UPDATE ON dbh_storm FOR EACH ROW EXECUTE FUNCTION dbh_storm_count();`);
  });
  afterAll(async () => {
    await sql("DROP TABLE IF EXISTS dbh_storm; DROP TABLE IF EXISTS dbh_storm_writes; DROP FUNCTION IF EXISTS dbh_storm_count()");
  });
  const writes = async (): Promise<number> => (await sql<{ n: number }>("SELECT n FROM dbh_storm_writes"))[0]!.n;

  it("answers a /probe scrape storm from one cycle per cache window, as the database's own count shows", async () => {
    const file = join(dir, "storm.yaml");
    writeFileSync(file, `probeCacheInterval: 3s\ntargets:\n  - name: pg\n    dsn: ${PG}\n    healthTable: dbh_storm\n    createHealthTable: false\n    interval: 1h\n`);
    const d = await start(["--config", file]);
    const deadline = Date.now() + 10_000;
    while ((await writes()) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await writes()).toBe(1); // the daemon's first cycle
    await new Promise((r) => setTimeout(r, 3100)); // past the cache window
    const storm = async (): Promise<number[]> => Promise.all(Array.from({ length: 200 }, () => fetch(`${d.base}/probe?target=pg`).then((r) => r.status)));
    // 64 requests wait for the cycle; those beyond are 503 with Retry-After at once, or are
    // served from the cache if they arrive after the cycle ended
    const first = await storm();
    expect(first.every((s) => s === 200 || s === 503)).toBe(true);
    expect(first.filter((s) => s === 200).length).toBeGreaterThanOrEqual(64);
    expect(await writes()).toBe(2); // 200 requests, one cycle
    expect(new Set(await storm())).toEqual(new Set([200])); // from the cache: none waits
    expect(await writes()).toBe(2); // still inside the window: none
    const bad = await fetch(`${d.base}/probe?target=nope`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('valid targets: pg');
  }, 60_000);

  it("serves /health as application/health+json and exits 0 on SIGINT; status reads /readyz", async () => {
    const d = await start(["--dsn", `file:${dir}/health.db?mode=rwc`, "--interval", "200ms"]);
    let res = await fetch(`${d.base}/health`);
    for (let i = 0; i < 50 && res.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      res = await fetch(`${d.base}/health`);
    }
    expect(res.headers.get("content-type")).toMatch(/^application\/health\+json/);
    expect((await res.json()) as { status: string }).toMatchObject({ status: "pass" });
    const status = run(["status", `${d.base}/readyz`]);
    expect(status.code).toBe(0);
    daemon!.kill("SIGINT");
    expect(await d.exit).toBe(0);
    expect(run(["status", `${d.base}/readyz`]).code).toBe(1);
  }, 60_000);

  it("status passes URL credentials as basic auth and never prints them", async () => {
    const web = join(dir, "auth-only.yml");
    writeFileSync(web, `basic_auth_users:\n  prom: ${bcrypt.hashSync("St4tus-pw", 4)}\n`);
    const d = await start(["--dsn", `file:${dir}/auth.db?mode=rwc`, "--web-config", web, "--interval", "200ms"]);
    const withAuth = d.base.replace("http://", "http://prom:St4tus-pw@");
    let r = run(["status", `${withAuth}/readyz`]);
    for (let i = 0; i < 30 && r.code !== 0; i++) {
      await new Promise((res) => setTimeout(res, 100));
      r = run(["status", `${withAuth}/readyz`]);
    }
    expect(r.code).toBe(0);
    const wrong = run(["status", `${d.base.replace("http://", "http://prom:Wr0ng-pw@")}/readyz`]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^401 /);
    daemon!.kill("SIGTERM");
    await d.exit;
    const gone = run(["status", `${withAuth}/readyz`]);
    expect(gone.code).toBe(1);
    for (const out of [r, wrong, gone]) expect(out.stdout + out.stderr).not.toMatch(/St4tus-pw|Wr0ng-pw/);
  }, 60_000);

  it("serves over TLS with basic auth from a web config file: wrong password 401, /healthz open", async () => {
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
      "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
    const hash = bcrypt.hashSync("right-pw", 4);
    const web = join(dir, "web.yml");
    writeFileSync(web, `tls_server_config:\n  cert_file: ${join(dir, "cert.pem")}\n  key_file: ${join(dir, "key.pem")}\nbasic_auth_users:\n  prom: ${hash}\n`);
    const d = await start(["--dsn", `file:${dir}/tls.db?mode=rwc`, "--web-config", web]);
    expect(d.base).toMatch(/^https:/);
    const ca = readFileSync(join(dir, "cert.pem"));
    const get = (path: string, auth?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpsRequest(`${d.base}${path}`, { ca, headers: auth ? { authorization: `Basic ${Buffer.from(auth).toString("base64")}` } : {} }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end();
      });
    expect(await get("/metrics", "prom:right-pw")).toBe(200);
    expect(await get("/metrics", "prom:wrong-pw")).toBe(401);
    expect(await get("/metrics")).toBe(401);
    expect(await get("/healthz")).toBe(200);
  }, 60_000);
});
