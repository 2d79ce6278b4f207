/**
 * Throwaway MariaDB servers for integration and fault tests: mariadb-install-db + mariadbd on a
 * free loopback port, optional self-signed TLS, users and databases, GTID replicas, crash-like
 * kills and pause/resume to simulate a hung server. Test-only (excluded from the build).
 *
 * The harness speaks SQL through the `mariadb` command-line client over the unix socket as
 * root (empty password, `--auth-root-authentication-method=normal`), so it needs no npm
 * package and keeps working when a test turns on `require_secure_transport` (MariaDB counts a
 * unix socket as secure transport) or breaks TCP. Root with an empty password also works over
 * TCP from 127.0.0.1, which is what `dsn()` hands to drivers by default.
 *
 * @example
 * ```ts
 * const db = await startMariaServer({ users: [{ name: "app", password: "s3cret", grants: ["ALL ON test.*"] }] });
 * try {
 *   await db.query("SELECT 1"); // [["1"]]
 *   const dsn = db.dsn({ user: "app", password: "s3cret" });
 * } finally {
 *   await db.destroy();
 * }
 * ```
 */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { accessSync, closeSync, constants, existsSync, openSync, rmSync } from "node:fs";
import { chmod, chown, cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { freePort } from "@alfred/db-health-testkit";

export interface MariaUser {
  name: string;
  password?: string;
  /** privilege clauses for `GRANT <clause> TO user`, e.g. ["ALL ON test.*"]; default ["ALL ON *.*"] */
  grants?: string[];
  /** `REQUIRE SSL`: the account is refused over plain TCP */
  requireSsl?: boolean;
}

export interface MariaServerOptions {
  /** extra mariadbd settings, passed as `--key=value` after the harness's own (so they win), e.g. { read_only: "ON" } */
  conf?: Record<string, string | number>;
  /** TLS with a self-signed CA + server cert (SAN 127.0.0.1 and localhost) made with `openssl`; `caFile` exposes the CA */
  ssl?: boolean;
  /** accounts created after start, each for hosts '127.0.0.1' and 'localhost', with the default auth plugin (mysql_native_password) */
  users?: MariaUser[];
  /** databases created after start; `test` always exists */
  databases?: string[];
  /** server_id (default random in 2..2^31); binary logging (ROW, GTID) is always on so every server can be a primary */
  serverId?: number;
}

export interface MariaServer {
  readonly port: number;
  readonly dataDir: string;
  /** the unix socket (mode 0777, in a directory everyone may traverse) */
  readonly socket: string;
  /** the CA that signed the server certificate (when ssl) */
  readonly caFile?: string;
  /**
   * mysql://user[:password]@127.0.0.1:port/db?params (user default root, db default test);
   * values percent-encoded; params whose value is undefined are left out (convenient for tables of cases)
   */
  dsn(opts?: { user?: string; password?: string; database?: string; params?: Record<string, string | undefined> }): string;
  /**
   * Runs SQL (several statements allowed) as root over the unix socket with `test` as the default
   * database, via the CLI client in batch mode. Rows of every result set, as arrays of strings;
   * SQL NULL becomes null (so does the string 'NULL': the batch format cannot tell them apart).
   */
  query(sql: string): Promise<Array<Array<string | null>>>;
  /** like query() for ONE statement, but each row keyed by column name (e.g. SHOW SLAVE STATUS) */
  queryRecords(sql: string): Promise<Array<Record<string, string | null>>>;
  /** spawns mariadbd and waits (bounded, 30 s) until root can run SELECT 1; no-op when running */
  start(): Promise<void>;
  /**
   * clean = SIGTERM and wait for the shutdown (bounded, SIGKILL + error past 30 s); kill = SIGKILL,
   * a crash: recovery on the next start, no committed row lost (flush_log_at_trx_commit=2). No-op when stopped.
   */
  stop(mode?: "clean" | "kill"): Promise<void>;
  /** SIGSTOP mariadbd (one process; its threads stop with it): the kernel still completes TCP handshakes, nothing answers */
  pause(): void;
  /** SIGCONT it */
  resume(): void;
  /**
   * A replica of this running server: own datadir, port and server_id, read_only=ON, replicating
   * with GTID (MASTER_USE_GTID=slave_pos, from the primary's first binlog, over TLS when the
   * primary has it) as user `repl`. Returns once both replication threads run and it has caught
   * up with the primary's binlog position at creation time. destroy() it too.
   */
  createReplica(): Promise<MariaServer>;
  /** SIGKILL if running + rm -rf; idempotent */
  destroy(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;
const KILL_WAIT_MS = 5_000;
const INSTALL_TIMEOUT_MS = 60_000;
const OPENSSL_TIMEOUT_MS = 20_000;
const QUERY_TIMEOUT_MS = 60_000;
const QUERY_CONNECT_TIMEOUT_S = 10;
const READY_POLL_MS = 50;
const REPLICA_TIMEOUT_MS = 30_000;
const LOG_TAIL_LINES = 40;
const PORT_ATTEMPTS = 3;
const REPL_USER = "repl";

const isRoot = process.getuid?.() === 0;

/** the first existing executable among names × dirs (dirs default to PATH plus the sbin dirs a non-root PATH lacks) */
function findExecutable(names: string[], extraDirs: string[] = []): string | undefined {
  const dirs = [...extraDirs, ...(process.env["PATH"] ?? "").split(delimiter).filter(Boolean), "/usr/sbin", "/usr/local/sbin", "/usr/libexec"];
  for (const name of names) {
    for (const dir of dirs) {
      const path = join(dir, name);
      try {
        accessSync(path, constants.X_OK);
        return path;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

const MISSING = "install the mariadb-server and mariadb-client Debian packages";

/** path of mariadbd; throws a clear Error if MariaDB server binaries are missing */
export function mariadbdPath(): string {
  const path = findExecutable(["mariadbd", "mysqld"], ["/usr/sbin", "/usr/libexec"]);
  if (path === undefined) throw new Error(`MariaDB server binary not found (mariadbd or mysqld in PATH, /usr/sbin, /usr/libexec): ${MISSING}`);
  return path;
}

function installDbPath(): string {
  const path = findExecutable(["mariadb-install-db", "mysql_install_db"]);
  if (path === undefined) throw new Error(`mariadb-install-db / mysql_install_db not found in PATH: ${MISSING}`);
  return path;
}

function clientPath(): string {
  const path = findExecutable(["mariadb", "mysql"]);
  if (path === undefined) throw new Error(`MariaDB command-line client (mariadb or mysql) not found in PATH: ${MISSING}`);
  return path;
}

/** all three binaries, so a missing client fails at startMariaServer() and not at the first query */
function checkBinaries(): void {
  mariadbdPath();
  installDbPath();
  clientPath();
}

/** servers not destroyed yet (running or stopped), for the exit-time safety net */
const live = new Set<ServerImpl>();
let exitHookInstalled = false;

/**
 * A crashed or interrupted test run must not leave mariadbd processes or their temp dirs behind.
 * "exit" handlers must be synchronous, so SIGKILL them directly (after SIGCONT in case one is
 * paused): they are throwaway, a crash costs nothing. vitest ends its fork workers with SIGTERM,
 * which skips "exit" handlers, so the usual termination signals get the same cleanup and are
 * then re-raised with their default action (unless someone else also listens, in which case
 * they decide). SIGKILL of this process cannot be covered.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = (): void => {
    for (const server of live) server.killSync();
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

/** the environment without MYSQL_* variables, so a developer's MYSQL_PWD/MYSQL_HOST/MYSQL_UNIX_PORT cannot redirect our tools */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("MYSQL")) env[k] = v;
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
      { cwd: opts.cwd, env: cleanEnv(), timeout: opts.timeoutMs, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const how = err.killed ? `timed out after ${opts.timeoutMs} ms` : `failed (${err.code ?? err.signal})`;
        const output = `${stdout}\n${stderr}`.trim();
        reject(new Error(`${[file, ...args].join(" ")} ${how}${output ? `:\n${output}` : ""}`));
      },
    );
  });
}

let cachedIds: { uid: number; gid: number } | undefined;

function mysqlIds(): { uid: number; gid: number } {
  const id = (flag: string): number => Number(execFileSync("id", [flag, "mysql"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

/** hand a path to the mysql user when we are root (no-op otherwise: mariadbd then runs as ourselves) */
async function giveToMysql(path: string): Promise<void> {
  if (!isRoot) return;
  cachedIds ??= mysqlIds();
  await chown(path, cachedIds.uid, cachedIds.gid);
}

/** `--user=mysql` when root: mariadbd refuses to run as root without it, and it is ignored (with a warning) otherwise */
const userFlag = (): string[] => (isRoot ? ["--user=mysql"] : []);

/**
 * Directory layout, all under one mkdtemp base so destroy() is a single rm -rf:
 *   base/            0755 mysql  (traversable so other users can reach the socket)
 *   base/data        datadir (install-db sets its mode)
 *   base/tmp         --tmpdir: never the shared /tmp, where a starting mariadbd deletes every
 *                    `#sql*` file, including the temporary tables of another server's bootstrap
 *   base/tls/        ca.crt, server.crt, server.key (0600) when ssl
 *   base/mysqld.sock, base/mysqld.pid
 *   base/error.log   --log-error
 *   base/stdio.log   mariadbd's stdout/stderr (option errors before the error log is open)
 */
interface Layout {
  base: string;
  dataDir: string;
  tmpDir: string;
  tlsDir: string;
  socket: string;
  pidFile: string;
  errorLog: string;
  stdioLog: string;
}

async function makeLayout(): Promise<Layout> {
  const base = await mkdtemp(join(tmpdir(), "mdb-"));
  const layout: Layout = {
    base,
    dataDir: join(base, "data"),
    tmpDir: join(base, "tmp"),
    tlsDir: join(base, "tls"),
    socket: join(base, "mysqld.sock"),
    pidFile: join(base, "mysqld.pid"),
    errorLog: join(base, "error.log"),
    stdioLog: join(base, "stdio.log"),
  };
  await chmod(base, 0o755);
  await giveToMysql(base);
  await mkdir(layout.dataDir, { mode: 0o750 });
  await giveToMysql(layout.dataDir);
  await mkdir(layout.tmpDir, { mode: 0o700 });
  await giveToMysql(layout.tmpDir);
  return layout;
}

const quoteLiteral = (s: string): string => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
const quoteIdent = (s: string): string => `\`${s.replace(/`/g, "``")}\``;

/** settings shared by install-db (bootstrap) and every start, so both see the same InnoDB geometry */
const ENGINE_FLAGS = [
  // Small and non-durable: these servers are throwaway and start time is CI time.
  "--innodb-buffer-pool-size=16M",
  "--innodb-log-file-size=8M",
  // 2, not 0: commits reach the OS at once (only an OS crash loses them), so stop("kill") loses
  // nothing. With 0 a killed primary could lose commits its replica already applied, and the
  // replica's SQL thread would then stop on a duplicate key when the primary redoes them.
  "--innodb-flush-log-at-trx-commit=2",
  // The machine's server (Debian's config) uses utf8mb4; --no-defaults would fall back to latin1.
  "--character-set-server=utf8mb4",
  "--collation-server=utf8mb4_general_ci",
];

/**
 * Runs during bootstrap (not binlogged, so a replica's own bootstrap yields the same state):
 * `test` exists everywhere, and the root@<hostname> account that install-db creates is dropped
 * because --skip-name-resolve ignores it anyway (with a warning in every error log).
 */
const BOOTSTRAP_SQL = `CREATE DATABASE IF NOT EXISTS test;
DELETE FROM mysql.global_priv WHERE User = 'root' AND Host NOT IN ('localhost', '127.0.0.1', '::1');
DELETE FROM mysql.proxies_priv WHERE Host NOT IN ('localhost', '127.0.0.1', '::1', '%', '');
`;

async function installDb(layout: Layout): Promise<void> {
  const extra = join(layout.base, "bootstrap.sql");
  await writeFile(extra, BOOTSTRAP_SQL);
  await run(
    installDbPath(),
    [
      "--no-defaults", // must come first: no /etc/mysql or ~/.my.cnf settings leak in
      "--auth-root-authentication-method=normal", // root@localhost/127.0.0.1/::1, empty password
      "--skip-test-db", // no anonymous accounts; `test` comes from BOOTSTRAP_SQL
      "--skip-name-resolve",
      ...userFlag(),
      `--datadir=${layout.dataDir}`,
      `--tmpdir=${layout.tmpDir}`,
      `--extra-file=${extra}`,
      ...ENGINE_FLAGS,
    ],
    { cwd: layout.base, timeoutMs: INSTALL_TIMEOUT_MS },
  );
}

/**
 * A CA and a server certificate signed by it, so clients can verify the chain including the
 * host name: SAN covers 127.0.0.1 and localhost. EC keys: generating them takes milliseconds
 * where RSA takes noticeably longer.
 */
async function makeTls(layout: Layout): Promise<string> {
  const dir = layout.tlsDir;
  await mkdir(dir, { mode: 0o755 });
  await giveToMysql(dir);
  const f = (name: string): string => join(dir, name);
  const ossl = (args: string[]): Promise<RunResult> => run("openssl", args, { cwd: dir, timeoutMs: OPENSSL_TIMEOUT_MS });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await ossl([
    "req", "-x509", ...ec, "-days", "3", "-subj", "/CN=db-health test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    "-keyout", f("ca.key"), "-out", f("ca.crt"),
  ]);
  await ossl(["req", "-new", ...ec, "-subj", "/CN=127.0.0.1", "-keyout", f("server.key"), "-out", f("server.csr")]);
  await writeFile(
    f("server.ext"),
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
  );
  await ossl([
    "x509", "-req", "-in", f("server.csr"), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial",
    "-days", "3", "-extfile", f("server.ext"), "-out", f("server.crt"),
  ]);
  await secureTlsFiles(dir);
  return f("ca.crt");
}

/** mariadbd (as mysql) must read the key; nobody else needs to */
async function secureTlsFiles(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    await chmod(join(dir, name), name.endsWith(".key") ? 0o600 : 0o644);
    await giveToMysql(join(dir, name));
  }
}

/** a replica gets its own copy of the primary's TLS files, so destroying the primary first cannot break it */
async function copyTls(from: string, layout: Layout): Promise<string> {
  await cp(from, layout.tlsDir, { recursive: true });
  await chmod(layout.tlsDir, 0o755);
  await giveToMysql(layout.tlsDir);
  await secureTlsFiles(layout.tlsDir);
  return join(layout.tlsDir, "ca.crt");
}

/**
 * One line of `mariadb --batch` output: fields separated by tabs, with tab, newline, backslash
 * and NUL inside values escaped as \t \n \\ \0; NULL printed as the word NULL.
 */
const UNESCAPE: Readonly<Record<string, string>> = { t: "\t", n: "\n", "0": "\0", "\\": "\\" };

function parseBatchLine(line: string): Array<string | null> {
  return line
    .split("\t")
    .map((field) => (field === "NULL" ? null : field.replace(/\\(.)/g, (_, c: string) => UNESCAPE[c] ?? `\\${c}`)));
}

function parseBatch(stdout: string): Array<Array<string | null>> {
  // "" = no rows at all; "\n" = one row holding one empty string.
  if (stdout === "") return [];
  return stdout.replace(/\n$/, "").split("\n").map(parseBatchLine);
}

interface Proc {
  child: ChildProcess;
  pid: number;
  /** resolves when mariadbd has exited and been reaped */
  exited: Promise<string>;
  exit?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** resolves true when the promise settled within ms */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  // Never 0 or negative: process.kill(-1) would signal every process we may signal.
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

const randomServerId = (): number => randomInt(2, 2 ** 31);

class ServerImpl implements MariaServer {
  readonly dataDir: string;
  readonly socket: string;
  readonly caFile?: string;
  readonly serverId: number;
  #port: number;
  #proc: Proc | undefined;
  #paused = false;
  #destroyed: Promise<void> | undefined;

  constructor(
    private readonly layout: Layout,
    private readonly options: MariaServerOptions,
    caFile: string | undefined,
  ) {
    this.dataDir = layout.dataDir;
    this.socket = layout.socket;
    this.serverId = options.serverId ?? randomServerId();
    this.#port = 0;
    if (caFile !== undefined) this.caFile = caFile;
    live.add(this);
    installExitHook();
  }

  get port(): number {
    return this.#port;
  }

  dsn(opts: { user?: string; password?: string; database?: string; params?: Record<string, string | undefined> } = {}): string {
    const enc = encodeURIComponent;
    const auth = enc(opts.user ?? "root") + (opts.password !== undefined ? `:${enc(opts.password)}` : "");
    const query = Object.entries(opts.params ?? {})
      .flatMap(([k, v]) => (v === undefined ? [] : [`${enc(k)}=${enc(v)}`]))
      .join("&");
    return `mysql://${auth}@127.0.0.1:${this.#port}/${enc(opts.database ?? "test")}${query ? `?${query}` : ""}`;
  }

  async query(sql: string): Promise<Array<Array<string | null>>> {
    const { stdout } = await this.#client(["--skip-column-names", "-e", sql], QUERY_CONNECT_TIMEOUT_S, QUERY_TIMEOUT_MS);
    return parseBatch(stdout);
  }

  async queryRecords(sql: string): Promise<Array<Record<string, string | null>>> {
    const { stdout } = await this.#client(["-e", sql], QUERY_CONNECT_TIMEOUT_S, QUERY_TIMEOUT_MS);
    const [header, ...rows] = parseBatch(stdout);
    if (header === undefined) return [];
    return rows.map((row) => Object.fromEntries(header.map((name, i) => [name ?? "NULL", row[i] ?? null])));
  }

  async start(): Promise<void> {
    if (this.#proc) return;
    if (this.#destroyed) throw new Error(`MariaDB server ${this.dataDir} was destroyed`);
    const proc = this.#spawn();
    try {
      await this.#waitReady(proc);
    } catch (err) {
      // A start that timed out may have left mariadbd running: make sure it is gone.
      await this.#kill();
      throw await this.#withLog(`could not start MariaDB on 127.0.0.1:${this.#port}`, err);
    }
  }

  async stop(mode: "clean" | "kill" = "clean"): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    if (mode === "kill") return this.#kill();
    // A stopped (SIGSTOP) mariadbd would never act on SIGTERM.
    this.resume();
    signal(proc.pid, "SIGTERM");
    if (!(await settlesWithin(proc.exited, STOP_TIMEOUT_MS))) {
      await this.#kill();
      throw await this.#withLog(`mariadbd (pid ${proc.pid}) did not shut down within ${STOP_TIMEOUT_MS} ms of SIGTERM; killed it`, undefined);
    }
  }

  pause(): void {
    if (!this.#proc) throw new Error(`pause(): mariadbd is not running for ${this.dataDir}`);
    signal(this.#proc.pid, "SIGSTOP");
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    if (this.#proc) signal(this.#proc.pid, "SIGCONT");
    this.#paused = false;
  }

  async createReplica(): Promise<MariaServer> {
    if (!this.#proc) throw new Error("createReplica(): the primary is not running");
    const layout = await makeLayout();
    let replica: ServerImpl | undefined;
    try {
      const password = randomBytes(12).toString("hex");
      // IF NOT EXISTS + ALTER: a second replica of the same primary reuses the account.
      const repl = `${quoteLiteral(REPL_USER)}@'127.0.0.1'`;
      await this.query(
        `CREATE USER IF NOT EXISTS ${repl}; ALTER USER ${repl} IDENTIFIED BY ${quoteLiteral(password)}; GRANT REPLICATION SLAVE ON *.* TO ${repl}`,
      );
      const [[binlogPos] = []] = await this.query("SELECT @@GLOBAL.gtid_binlog_pos");
      await installDb(layout);
      const caFile = this.caFile !== undefined ? await copyTls(this.layout.tlsDir, layout) : undefined;
      const serverId = pickOther(this.serverId);
      const conf = {
        ...this.options.conf,
        read_only: "ON",
        // Notice a dead or hung primary within seconds (the default is a minute).
        slave_net_timeout: 5,
      };
      replica = new ServerImpl(layout, { conf, ssl: this.options.ssl ?? false, serverId }, caFile);
      await replica.startOnFreePort();
      await replica.query(this.#changeMasterSql(password, caFile));
      await replica.#waitReplicating(binlogPos ?? "");
      return replica;
    } catch (err) {
      const carriesLog = err instanceof Error && err.message.includes("--- server log");
      const replicaLog = carriesLog ? "" : `\n--- replica log (${layout.errorLog}) ---\n${await logTail(layout.errorLog, layout.stdioLog)}`;
      if (replica) await replica.destroy();
      else await rm(layout.base, { recursive: true, force: true });
      const detail = err instanceof Error ? err.message : String(err);
      throw await this.#withLog(`could not create a replica: ${detail}${replicaLog}\n(primary log below)`, undefined, err);
    }
  }

  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      await this.#kill();
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
      try {
        await this.start();
        return;
      } catch (err) {
        lastError = err;
        if (!/address already in use|bind on tcp\/ip port/i.test(String(err))) throw err;
      }
    }
    throw lastError;
  }

  /** exit-hook path: synchronous, best effort */
  killSync(): void {
    const proc = this.#proc;
    if (proc) {
      signal(proc.pid, "SIGCONT");
      signal(proc.pid, "SIGKILL");
    }
    try {
      rmSync(this.layout.base, { recursive: true, force: true });
    } catch {
      // the dying server may still hold files; leaving a temp dir is acceptable
    }
  }

  #serverArgs(): string[] {
    const { layout } = this;
    const tls = this.caFile !== undefined
      ? [`--ssl-ca=${this.caFile}`, `--ssl-cert=${join(layout.tlsDir, "server.crt")}`, `--ssl-key=${join(layout.tlsDir, "server.key")}`]
      : [];
    const conf = Object.entries(this.options.conf ?? {}).map(([k, v]) => `--${k}=${v}`);
    return [
      "--no-defaults", // must come first
      ...userFlag(),
      `--datadir=${layout.dataDir}`,
      `--tmpdir=${layout.tmpDir}`,
      `--port=${this.#port}`,
      "--bind-address=127.0.0.1",
      `--socket=${layout.socket}`,
      `--pid-file=${layout.pidFile}`,
      `--log-error=${layout.errorLog}`,
      "--skip-name-resolve",
      ...ENGINE_FLAGS,
      "--sync-binlog=0",
      // Every server can be a primary: GTID binlog (file names independent of the host name).
      `--server-id=${this.serverId}`,
      "--log-bin=binlog",
      "--relay-log=relay-bin",
      "--binlog-format=ROW",
      // Fault tests abort many handshakes from 127.0.0.1; the default (100) would block the host.
      "--max-connect-errors=1000000",
      ...tls,
      ...conf,
    ];
  }

  #spawn(): Proc {
    // stdout/stderr go to a file: mariadbd reports bad options there, before --log-error is open.
    const out = openSync(this.layout.stdioLog, "a");
    let child: ChildProcess;
    try {
      // detached: its own process group, so a terminal's ^C reaches only us and we decide (exit hook).
      child = spawn(mariadbdPath(), this.#serverArgs(), { cwd: this.layout.base, env: cleanEnv(), stdio: ["ignore", out, out], detached: true });
    } finally {
      closeSync(out);
    }
    child.unref();
    const proc: Proc = {
      child,
      pid: child.pid ?? 0, // 0 when spawn failed: signal() ignores it
      exited: new Promise<string>((resolve) => {
        const done = (how: string): void => {
          proc.exit = how;
          // The server may also die on its own (or be killed by a test): then it is simply stopped.
          if (this.#proc === proc) {
            this.#proc = undefined;
            this.#paused = false;
          }
          resolve(how);
        };
        child.once("exit", (code, sig) => done(sig ? `killed by ${sig}` : `exited with code ${code}`));
        child.once("error", (err) => done(`could not be spawned: ${err.message}`));
      }),
    };
    this.#proc = proc;
    return proc;
  }

  /** polls SELECT 1 over the socket until it answers, mariadbd exits, or the start timeout passes */
  async #waitReady(proc: Proc): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (proc.exit !== undefined) throw new Error(`mariadbd ${proc.exit} during startup`);
      try {
        await this.#client(["--skip-column-names", "-e", "SELECT 1"], 2, 5_000);
        return;
      } catch (err) {
        lastError = err;
      }
      await sleep(READY_POLL_MS);
    }
    const detail = lastError instanceof Error ? lastError.message : String(lastError);
    throw new Error(`not accepting connections after ${START_TIMEOUT_MS} ms (last attempt: ${detail})`);
  }

  /** SIGCONT + SIGKILL and wait (bounded) until it has been reaped, so the port and files are free */
  async #kill(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    signal(proc.pid, "SIGCONT");
    signal(proc.pid, "SIGKILL");
    if (!(await settlesWithin(proc.exited, KILL_WAIT_MS))) {
      throw new Error(`mariadbd (pid ${proc.pid}) still not gone ${KILL_WAIT_MS} ms after SIGKILL`);
    }
  }

  /** the CLI client as root over the socket, default database test */
  #client(args: string[], connectTimeoutS: number, timeoutMs: number): Promise<RunResult> {
    return run(
      clientPath(),
      [
        "--no-defaults", // must come first
        `--socket=${this.socket}`,
        "--protocol=socket",
        "--user=root",
        "--batch",
        `--connect-timeout=${connectTimeoutS}`,
        "--database=test",
        ...args,
      ],
      { cwd: this.layout.base, timeoutMs },
    );
  }

  #changeMasterSql(password: string, caFile: string | undefined): string {
    const tls = caFile !== undefined ? `, MASTER_SSL = 1, MASTER_SSL_CA = ${quoteLiteral(caFile)}, MASTER_SSL_VERIFY_SERVER_CERT = 1` : "";
    return (
      `CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${this.#port}, ` +
      `MASTER_USER = ${quoteLiteral(REPL_USER)}, MASTER_PASSWORD = ${quoteLiteral(password)}, ` +
      // Reconnect every second after a primary restart (the default waits a minute).
      `MASTER_CONNECT_RETRY = 1, MASTER_HEARTBEAT_PERIOD = 1, MASTER_USE_GTID = slave_pos${tls}; START SLAVE`
    );
  }

  /** on the replica: both threads Yes, then caught up with the primary's position at creation */
  async #waitReplicating(primaryPos: string): Promise<void> {
    const deadline = Date.now() + REPLICA_TIMEOUT_MS;
    let status: Record<string, string | null> | undefined;
    for (;;) {
      [status] = await this.queryRecords("SHOW SLAVE STATUS");
      if (status?.["Slave_IO_Running"] === "Yes" && status["Slave_SQL_Running"] === "Yes") break;
      // A stopped SQL thread never recovers on its own: fail now with its error.
      if (status?.["Slave_SQL_Running"] === "No" && status["Last_SQL_Error"]) {
        throw new Error(`replication SQL thread stopped: ${status["Last_SQL_Error"]}`);
      }
      if (Date.now() > deadline) throw new Error(`replication threads not running after ${REPLICA_TIMEOUT_MS} ms: ${describeStatus(status)}`);
      await sleep(100);
    }
    if (primaryPos === "") return;
    const waitS = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    const [[caughtUp] = []] = await this.query(`SELECT MASTER_GTID_WAIT(${quoteLiteral(primaryPos)}, ${waitS})`);
    if (caughtUp !== "0") {
      [status] = await this.queryRecords("SHOW SLAVE STATUS");
      throw new Error(`replica did not reach the primary's GTID position ${primaryPos} within ${waitS} s: ${describeStatus(status)}`);
    }
  }

  async #withLog(message: string, cause: unknown, originalCause: unknown = cause): Promise<Error> {
    const tail = await logTail(this.layout.errorLog, this.layout.stdioLog);
    const detail = cause === undefined ? "" : `: ${cause instanceof Error ? cause.message : String(cause)}`;
    return new Error(`${message}${detail}\n--- server log (${this.layout.errorLog}) ---\n${tail}`, { cause: originalCause });
  }
}

function pickOther(serverId: number): number {
  let id = randomServerId();
  while (id === serverId) id = randomServerId();
  return id;
}

function describeStatus(status: Record<string, string | null> | undefined): string {
  if (!status) return "SHOW SLAVE STATUS is empty";
  const keys = ["Slave_IO_State", "Slave_IO_Running", "Slave_SQL_Running", "Last_IO_Error", "Last_SQL_Error", "Gtid_IO_Pos"];
  return keys.map((k) => `${k}=${JSON.stringify(status[k] ?? null)}`).join(" ");
}

/** the error log's last lines, plus mariadbd's stdout/stderr when it wrote anything there */
async function logTail(errorLog: string, stdioLog: string): Promise<string> {
  const tail = async (file: string): Promise<string | undefined> => {
    try {
      const text = (await readFile(file, "utf8")).trimEnd();
      return text === "" ? undefined : text.split("\n").slice(-LOG_TAIL_LINES).join("\n");
    } catch {
      return undefined;
    }
  };
  const [log, stdio] = await Promise.all([tail(errorLog), existsSync(stdioLog) ? tail(stdioLog) : undefined]);
  return [log ?? "(no error log)", ...(stdio !== undefined ? [`--- mariadbd stdout/stderr ---\n${stdio}`] : [])].join("\n");
}

/** users and databases after the first start */
async function provision(server: ServerImpl, options: MariaServerOptions): Promise<void> {
  const statements: string[] = [];
  for (const user of options.users ?? []) {
    for (const host of ["127.0.0.1", "localhost"]) {
      const account = `${quoteLiteral(user.name)}@${quoteLiteral(host)}`;
      const password = user.password !== undefined ? ` IDENTIFIED BY ${quoteLiteral(user.password)}` : "";
      statements.push(`CREATE USER ${account}${password}${user.requireSsl ? " REQUIRE SSL" : ""}`);
      for (const grant of user.grants ?? ["ALL ON *.*"]) statements.push(`GRANT ${grant} TO ${account}`);
    }
  }
  for (const db of options.databases ?? []) statements.push(`CREATE DATABASE IF NOT EXISTS ${quoteIdent(db)}`);
  if (statements.length > 0) await server.query(statements.join(";\n"));
}

/** install-db + configure + start a throwaway MariaDB on a free 127.0.0.1 port */
export async function startMariaServer(options: MariaServerOptions = {}): Promise<MariaServer> {
  checkBinaries(); // fail early with the clear message
  const layout = await makeLayout();
  let server: ServerImpl | undefined;
  try {
    await installDb(layout);
    const caFile = options.ssl ? await makeTls(layout) : undefined;
    server = new ServerImpl(layout, options, caFile);
    await server.startOnFreePort();
    await provision(server, options);
    return server;
  } catch (err) {
    // Read the log before destroy() removes it (start() failures already carry it).
    const carriesLog = err instanceof Error && err.message.includes("--- server log");
    const tail = carriesLog ? "" : await logTail(layout.errorLog, layout.stdioLog);
    if (server) await server.destroy();
    else await rm(layout.base, { recursive: true, force: true });
    if (carriesLog) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(`startMariaServer failed: ${detail}\n--- server log (${layout.errorLog}) ---\n${tail}`, { cause: err });
  }
}
