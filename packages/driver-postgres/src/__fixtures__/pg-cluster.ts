/**
 * Throwaway PostgreSQL clusters for integration and fault tests: initdb on a free loopback port,
 * optional self-signed TLS, extra pg_hba lines, roles and databases, streaming replicas, and
 * pause/resume to simulate a hung server. Test-only (excluded from the build).
 *
 * @example
 * ```ts
 * const pg = await startCluster({ users: [{ name: "app", password: "s3cret" }] });
 * try {
 *   await pg.query("SELECT 1");
 *   const dsn = pg.dsn({ user: "app", password: "s3cret" });
 * } finally {
 *   await pg.destroy();
 * }
 * ```
 */
import { freePort } from "@alfred/db-health-testkit";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { appendFile, chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

export interface PgUser {
  name: string;
  password?: string;
  superuser?: boolean;
  createdb?: boolean;
}

export interface PgClusterOptions {
  /** extra pg_hba.conf lines placed BEFORE the defaults (first match wins) */
  hba?: string[];
  /** server TLS with a self-signed CA + server cert (CN/SAN 127.0.0.1 and localhost) made with `openssl` into the data dir; `caFile` exposes the CA */
  ssl?: boolean;
  /** extra postgresql.conf settings */
  conf?: Record<string, string | number>;
  /** roles created after start (with SCRAM passwords when given) */
  users?: PgUser[];
  /** databases created after start (owner postgres) */
  databases?: string[];
}

export interface PgCluster {
  readonly port: number;
  readonly dataDir: string;
  /** unix_socket_directories, owned by postgres, traversable by everyone */
  readonly socketDir: string;
  /** the CA that signed the server certificate (when ssl) */
  readonly caFile?: string;
  /**
   * postgres://user[:password]@127.0.0.1:port/db?params (user default postgres, db default postgres);
   * values percent-encoded; params whose value is undefined are left out (convenient for tables of cases)
   */
  dsn(opts?: { user?: string; password?: string; database?: string; params?: Record<string, string | undefined> }): string;
  /** runs SQL as the superuser postgres over the unix socket and returns rows (a fresh client per call, always ended) */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], database?: string): Promise<T[]>;
  /** pg_ctl start -w, bounded (30 s); no-op when running */
  start(): Promise<void>;
  /** default fast; immediate = crash-like kill (crash recovery on the next start); no-op when stopped */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** SIGSTOP the postmaster and all its children: a hung server whose kernel still completes TCP handshakes */
  pause(): void;
  /** SIGCONT them */
  resume(): void;
  /** a streaming replica of this running primary on a new free port, started; destroy() it too */
  createReplica(): Promise<PgCluster>;
  /** immediate stop if running + rm -rf; idempotent */
  destroy(): Promise<void>;
}

const START_TIMEOUT_S = 30;
const STOP_TIMEOUT_S = 30;
const INITDB_TIMEOUT_MS = 60_000;
const BASEBACKUP_TIMEOUT_MS = 60_000;
const OPENSSL_TIMEOUT_MS = 20_000;
const QUERY_CONNECT_TIMEOUT_MS = 15_000;
const QUERY_TIMEOUT_MS = 60_000;
const LOG_TAIL_LINES = 40;
const PORT_ATTEMPTS = 3;

const isRoot = process.getuid?.() === 0;

/** newest /usr/lib/postgresql/<major>/bin that holds a `postgres` binary */
export function pgBinDir(): string {
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((d) => /^\d+(\.\d+)?$/.test(d) && existsSync(join(root, d, "bin", "postgres")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = majors[0];
  if (newest === undefined) {
    throw new Error(
      `PostgreSQL server binaries not found under ${root}/<version>/bin (need initdb, pg_ctl, postgres, pg_basebackup): install the postgresql Debian package`,
    );
  }
  return join(root, newest, "bin");
}


/** clusters whose postmaster may be running, for the exit-time safety net */
const live = new Set<ClusterImpl>();
let exitHookInstalled = false;

/**
 * A crashed or interrupted test run must not leave postmasters behind on the machine. "exit"
 * handlers must be synchronous, so signal the postmaster directly: SIGCONT in case it is
 * paused, then SIGQUIT = immediate shutdown (the postmaster takes its children down with it).
 * vitest ends its fork workers with SIGTERM, which skips "exit" handlers, so the usual
 * termination signals get the same cleanup and are then re-raised with their default action
 * (unless someone else also listens, in which case they decide). SIGKILL cannot be covered.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = (): void => {
    for (const cluster of live) cluster.killSync();
    live.clear();
  };
  process.on("exit", killAll);
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    const onSignal = (): void => {
      killAll();
      process.removeListener(sig, onSignal);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/** argv for running a PostgreSQL binary as the postgres OS user (it refuses to run as root) */
function asPostgres(binary: string, args: string[]): [string, string[]] {
  const path = join(pgBinDir(), binary);
  return isRoot ? ["runuser", ["-u", "postgres", "--", path, ...args]] : [path, args];
}

/** the environment without PG* variables, so a developer's PGPORT/PGHOST cannot redirect our tools */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PG")) env[k] = v;
  return env;
}

interface RunResult {
  stdout: string;
  stderr: string;
}

/** execFile with a hard timeout; the error message carries the tool's output */
function run(file: string, args: string[], opts: { cwd: string; timeoutMs: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: opts.cwd, env: cleanEnv(), timeout: opts.timeoutMs, killSignal: "SIGKILL", maxBuffer: 8 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const how = err.killed ? `timed out after ${opts.timeoutMs} ms` : `failed (${err.code ?? err.signal})`;
        const output = `${stdout}\n${stderr}`.trim();
        reject(new Error(`${[file, ...args].join(" ")} ${how}${output ? `:\n${output}` : ""}`));
      },
    );
  });
}

function postgresIds(): { uid: number; gid: number } {
  const id = (flag: string): number => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

let cachedIds: { uid: number; gid: number } | undefined;

/** hand a path to the postgres user when we are root (no-op otherwise: we run postgres as ourselves) */
async function giveToPostgres(path: string): Promise<void> {
  if (!isRoot) return;
  cachedIds ??= postgresIds();
  await chown(path, cachedIds.uid, cachedIds.gid);
}

/**
 * Directory layout, all under one mkdtemp base so destroy() is a single rm -rf:
 *   base/        0755 postgres   (traversable so other users can reach the socket)
 *   base/data    0700 postgres   (postgres refuses group/world-accessible data dirs)
 *   base/sock    0755 postgres   (unix_socket_directories)
 *   base/server.log
 */
interface Layout {
  base: string;
  dataDir: string;
  socketDir: string;
  logFile: string;
}

async function makeLayout(): Promise<Layout> {
  const base = await mkdtemp(join(tmpdir(), "pgc-"));
  const layout = { base, dataDir: join(base, "data"), socketDir: join(base, "sock"), logFile: join(base, "server.log") };
  await chmod(base, 0o755);
  await giveToPostgres(base);
  await mkdir(layout.dataDir, { mode: 0o700 });
  await chmod(layout.dataDir, 0o700);
  await giveToPostgres(layout.dataDir);
  await mkdir(layout.socketDir, { mode: 0o755 });
  await chmod(layout.socketDir, 0o755);
  await giveToPostgres(layout.socketDir);
  return layout;
}

/** a postgresql.conf value: numbers bare, everything else single-quoted (valid for every GUC type) */
function confValue(v: string | number): string {
  return typeof v === "number" ? String(v) : `'${v.replace(/'/g, "''")}'`;
}

const quoteIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;
const quoteLiteral = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** the harness's own settings file, included from postgresql.conf; rewritten when the port changes */
const HARNESS_CONF = "harness.conf";

function harnessConf(port: number, socketDir: string, options: PgClusterOptions): string {
  const settings: Record<string, string | number> = {
    listen_addresses: "127.0.0.1",
    port,
    unix_socket_directories: socketDir,
    // Durability is irrelevant for throwaway clusters and costs seconds per test file.
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
    shared_buffers: "16MB",
    max_connections: 50,
    // Replicas need WAL senders on the primary and read-only queries on the standby.
    wal_level: "replica",
    max_wal_senders: 5,
    hot_standby: "on",
    logging_collector: "off",
    ...(options.ssl ? { ssl: "on", ssl_cert_file: "server.crt", ssl_key_file: "server.key" } : {}),
    ...options.conf,
  };
  return Object.entries(settings)
    .map(([k, v]) => `${k} = ${confValue(v)}\n`)
    .join("");
}

function hbaConf(extra: string[] = []): string {
  return [
    ...extra,
    "local all all trust",
    "host all postgres 127.0.0.1/32 trust",
    "host replication postgres 127.0.0.1/32 trust",
    "host all all 127.0.0.1/32 scram-sha-256",
    "",
  ].join("\n");
}

/**
 * A CA and a server certificate signed by it, so clients can verify the chain (`ssl: { ca }`)
 * including the host name: SAN covers 127.0.0.1 and localhost. EC keys: generating them takes
 * milliseconds where RSA takes noticeably longer.
 */
async function makeTls(dataDir: string, cwd: string): Promise<string> {
  const f = (name: string): string => join(dataDir, name);
  const ossl = (args: string[]): Promise<RunResult> => run("openssl", args, { cwd, timeoutMs: OPENSSL_TIMEOUT_MS });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await ossl([
    "req", "-x509", ...ec, "-days", "3", "-subj", "/CN=db-health test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    "-keyout", f("ca.key"), "-out", f("ca.crt"),
  ]);
  await ossl(["req", "-new", ...ec, "-subj", "/CN=127.0.0.1", "-keyout", f("server.key"), "-out", f("server.csr")]);
  const ext = f("server.ext");
  await writeFile(
    ext,
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
  );
  await ossl([
    "x509", "-req", "-in", f("server.csr"), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial",
    "-days", "3", "-extfile", ext, "-out", f("server.crt"),
  ]);
  // postgres refuses a key file readable by group/world, and it must own it.
  for (const name of ["ca.key", "ca.crt", "ca.srl", "server.key", "server.csr", "server.crt", "server.ext"]) {
    if (!existsSync(f(name))) continue;
    await chmod(f(name), name.endsWith(".key") ? 0o600 : 0o644);
    await giveToPostgres(f(name));
  }
  return f("ca.crt");
}

/** direct children of a pid, from /proc/<pid>/stat (ppid is the 2nd field after the "(comm)") */
function childPids(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent) pids.push(Number(entry));
    } catch {
      // the process exited while we were scanning
    }
  }
  return pids;
}

class ClusterImpl implements PgCluster {
  readonly dataDir: string;
  readonly socketDir: string;
  readonly caFile?: string;
  #port: number;
  #running = false;
  #paused = false;
  #destroyed: Promise<void> | undefined;

  constructor(
    private readonly layout: Layout,
    port: number,
    private readonly options: PgClusterOptions,
    caFile: string | undefined,
  ) {
    this.dataDir = layout.dataDir;
    this.socketDir = layout.socketDir;
    this.#port = port;
    if (caFile !== undefined) this.caFile = caFile;
  }

  get port(): number {
    return this.#port;
  }

  dsn(opts: { user?: string; password?: string; database?: string; params?: Record<string, string | undefined> } = {}): string {
    const enc = encodeURIComponent;
    const auth = enc(opts.user ?? "postgres") + (opts.password !== undefined ? `:${enc(opts.password)}` : "");
    const query = Object.entries(opts.params ?? {})
      .flatMap(([k, v]) => (v === undefined ? [] : [`${enc(k)}=${enc(v)}`]))
      .join("&");
    return `postgres://${auth}@127.0.0.1:${this.#port}/${enc(opts.database ?? "postgres")}${query ? `?${query}` : ""}`;
  }

  async query<T = Record<string, unknown>>(sql: string, params?: unknown[], database = "postgres"): Promise<T[]> {
    const client = new pg.Client({
      host: this.socketDir,
      port: this.#port,
      user: "postgres",
      database,
      connectionTimeoutMillis: QUERY_CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
    });
    // Without a listener, a server-side disconnect after the query would be an uncaught error.
    client.on("error", () => {});
    try {
      await client.connect();
      const result = await client.query(sql, params);
      return result.rows as T[];
    } finally {
      await endClient(client);
    }
  }

  async start(): Promise<void> {
    if (this.#running) return;
    if (this.#destroyed) throw new Error(`cluster ${this.dataDir} was destroyed`);
    const [file, args] = asPostgres("pg_ctl", [
      "start", "-w", "-t", String(START_TIMEOUT_S), "-D", this.dataDir, "-l", this.layout.logFile,
    ]);
    try {
      await run(file, args, { cwd: this.layout.base, timeoutMs: (START_TIMEOUT_S + 5) * 1000 });
    } catch (err) {
      // A start that timed out may have left a postmaster running: make sure it is gone.
      await this.#forceStop();
      throw await this.#withLog(`could not start PostgreSQL on 127.0.0.1:${this.#port}`, err);
    }
    this.#running = true;
    live.add(this);
    installExitHook();
  }

  async stop(mode: "fast" | "immediate" = "fast"): Promise<void> {
    if (!this.#running) return;
    // A stopped (SIGSTOP) postmaster would never act on the shutdown signal.
    this.resume();
    const [file, args] = asPostgres("pg_ctl", ["stop", "-w", "-t", String(STOP_TIMEOUT_S), "-m", mode, "-D", this.dataDir]);
    try {
      await run(file, args, { cwd: this.layout.base, timeoutMs: (STOP_TIMEOUT_S + 5) * 1000 });
    } catch (err) {
      if (this.#postmasterPid() !== undefined) throw await this.#withLog(`could not stop PostgreSQL (${mode})`, err);
      // no pid file: the server was already gone (killed by the test), which is what we wanted
    }
    this.#running = false;
    live.delete(this);
  }

  pause(): void {
    const pm = this.#postmasterPid();
    if (pm === undefined) throw new Error(`pause(): no running postmaster for ${this.dataDir}`);
    // Postmaster first, then list its children: a stopped postmaster cannot fork one we would miss.
    signal(pm, "SIGSTOP");
    for (const pid of childPids(pm)) signal(pid, "SIGSTOP");
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    for (const pid of this.#serverPids().reverse()) signal(pid, "SIGCONT");
    this.#paused = false;
  }

  async createReplica(): Promise<PgCluster> {
    if (!this.#running) throw new Error("createReplica(): the primary is not running");
    const layout = await makeLayout();
    let replica: ClusterImpl | undefined;
    try {
      const [file, args] = asPostgres("pg_basebackup", [
        "-D", layout.dataDir, "-h", "127.0.0.1", "-p", String(this.#port), "-U", "postgres",
        // -R writes standby.signal + primary_conninfo; -c fast avoids waiting for a spread checkpoint.
        "-R", "-X", "stream", "-c", "fast", "--no-sync",
      ]);
      await run(file, args, { cwd: layout.base, timeoutMs: BASEBACKUP_TIMEOUT_MS });
      // The copy brings the primary's conf, hba and TLS files; only port and socket dir differ.
      const caFile = this.caFile !== undefined ? join(layout.dataDir, "ca.crt") : undefined;
      replica = new ClusterImpl(layout, 0, { ...this.options, users: [], databases: [] }, caFile);
      await replica.startOnFreePort();
      return replica;
    } catch (err) {
      if (replica) await replica.destroy();
      else await rm(layout.base, { recursive: true, force: true });
      throw await this.#withLog("could not create a replica (primary log below)", err);
    }
  }

  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      if (this.#running || this.#postmasterPid() !== undefined) {
        this.resume();
        try {
          await this.stop("immediate");
        } catch {
          await this.#forceStop();
        }
      }
      this.#running = false;
      live.delete(this);
      await rm(this.layout.base, { recursive: true, force: true });
    })();
    return this.#destroyed;
  }

  /** first start: pick a free port, retrying when another process grabbed it in between */
  async startOnFreePort(): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
      this.#port = await freePort();
      await this.writeHarnessConf();
      try {
        await this.start();
        return;
      } catch (err) {
        lastError = err;
        if (!/could not bind|address already in use/i.test(String(err))) throw err;
      }
    }
    throw lastError;
  }

  async writeHarnessConf(): Promise<void> {
    const file = join(this.dataDir, HARNESS_CONF);
    await writeFile(file, harnessConf(this.#port, this.socketDir, this.options));
    await giveToPostgres(file);
  }

  /** exit-hook path: synchronous, best effort */
  killSync(): void {
    const pid = this.#postmasterPid();
    if (pid === undefined) return;
    for (const p of this.#serverPids()) signal(p, "SIGCONT");
    signal(pid, "SIGQUIT");
    try {
      rmSync(this.layout.base, { recursive: true, force: true });
    } catch {
      // the dying server may still be writing; leaving a temp dir is acceptable
    }
  }

  /** last resort when pg_ctl cannot stop it: SIGCONT + SIGKILL everything, then wait briefly */
  async #forceStop(): Promise<void> {
    const pids = this.#serverPids();
    for (const pid of pids) signal(pid, "SIGCONT");
    for (const pid of pids) signal(pid, "SIGKILL");
    const deadline = Date.now() + 5000;
    while (pids.some(isAlive) && Date.now() < deadline) await sleep(50);
    this.#running = false;
    this.#paused = false;
    live.delete(this);
  }

  #postmasterPid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
      return pid > 0 && isAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** the postmaster followed by all its children (backends, walwriter, walsenders, …) */
  #serverPids(): number[] {
    const pm = this.#postmasterPid();
    return pm === undefined ? [] : [pm, ...childPids(pm)];
  }

  async #withLog(message: string, cause: unknown): Promise<Error> {
    const tail = await logTail(this.layout.logFile);
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new Error(`${message}: ${detail}\n--- server log (${this.layout.logFile}) ---\n${tail}`, { cause });
  }
}

async function logTail(file: string): Promise<string> {
  try {
    return (await readFile(file, "utf8")).trimEnd().split("\n").slice(-LOG_TAIL_LINES).join("\n");
  } catch {
    return "(no server log)";
  }
}

/** client.end() waits for the server to close the socket: never let a hung server hang us */
async function endClient(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const ended = client.end().catch(() => {});
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, 2000);
    timer.unref();
  });
  await Promise.race([ended, timedOut]);
  clearTimeout(timer);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** role and database creation after the first start */
async function provision(cluster: ClusterImpl, options: PgClusterOptions): Promise<void> {
  for (const user of options.users ?? []) {
    const attrs = ["LOGIN", user.superuser ? "SUPERUSER" : "", user.createdb ? "CREATEDB" : ""].filter(Boolean);
    // password_encryption defaults to scram-sha-256 (PG ≥ 14); set it explicitly anyway.
    const password = user.password !== undefined ? ` PASSWORD ${quoteLiteral(user.password)}` : "";
    await cluster.query(`SET password_encryption = 'scram-sha-256'; CREATE ROLE ${quoteIdent(user.name)} ${attrs.join(" ")}${password}`);
  }
  for (const db of options.databases ?? []) {
    await cluster.query(`CREATE DATABASE ${quoteIdent(db)} OWNER postgres`);
  }
}

async function initdb(layout: Layout): Promise<void> {
  const [file, args] = asPostgres("initdb", [
    "-D", layout.dataDir, "-U", "postgres", "--auth-local=trust", "--auth-host=trust",
    // C locale: independent of whatever LANG the test runner has, and the fastest to set up.
    "-E", "UTF8", "--locale=C", "--no-instructions", "--no-sync",
  ]);
  await run(file, args, { cwd: layout.base, timeoutMs: INITDB_TIMEOUT_MS });
}

/** initdb + configure + start a throwaway cluster on a free 127.0.0.1 port */
export async function startCluster(options: PgClusterOptions = {}): Promise<PgCluster> {
  pgBinDir(); // fail early with the clear message
  const layout = await makeLayout();
  let cluster: ClusterImpl | undefined;
  try {
    await initdb(layout);
    await appendFile(join(layout.dataDir, "postgresql.conf"), `\n# db-health test harness\ninclude '${HARNESS_CONF}'\n`);
    await writeFile(join(layout.dataDir, "pg_hba.conf"), hbaConf(options.hba));
    const caFile = options.ssl ? await makeTls(layout.dataDir, layout.base) : undefined;
    cluster = new ClusterImpl(layout, 0, options, caFile);
    await cluster.startOnFreePort();
    await provision(cluster, options);
    return cluster;
  } catch (err) {
    // Read the log before destroy() removes it (start() failures already carry it).
    const carriesLog = err instanceof Error && err.message.includes("--- server log");
    const tail = carriesLog ? "" : await logTail(layout.logFile);
    if (cluster) await cluster.destroy();
    else await rm(layout.base, { recursive: true, force: true });
    if (carriesLog) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(`startCluster failed: ${detail}\n--- server log (${layout.logFile}) ---\n${tail}`, { cause: err });
  }
}
