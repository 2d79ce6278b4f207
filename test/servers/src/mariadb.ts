/**
 * Throwaway MariaDB servers: mariadb-install-db + mariadbd on a free loopback port, optional
 * self-signed TLS, users and databases, GTID replicas, crash-like kills and pause/resume to
 * simulate a hung server. When we are root, files belong to the `mysql` OS user and mariadbd
 * gets `--user=mysql`.
 *
 * The harness speaks SQL through the `mariadb` command-line client over the unix socket as root
 * (empty password, `--auth-root-authentication-method=normal`), so it needs no npm package and
 * keeps working when a test turns on `require_secure_transport` (MariaDB counts a unix socket as
 * secure transport) or breaks TCP. Root with an empty password also works over TCP from
 * 127.0.0.1, which is what `dsn()` hands to drivers by default.
 */
import { randomBytes, randomInt } from "node:crypto";
import { accessSync, constants } from "node:fs";
import { writeFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { isRoot, run, sleep, type RunResult } from "./_internal/exec.js";
import type { Layout } from "./_internal/layout.js";
import { bringUp, layoutFor, ThrowawayServer, TIMEOUT_MS, type EngineTraits, type Launch } from "./_internal/throwaway-server.js";
import { copyTls, makeTls, tlsDays } from "./_internal/tls.js";
import type { TestServer, TlsOptions } from "./types.js";

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
  /** TLS with a self-signed CA + server cert (SAN 127.0.0.1 and localhost) made with `openssl`, valid for `{ days }` (default 3); `caFile` and `certFile` expose them */
  ssl?: boolean | TlsOptions;
  /** accounts created after start, each for hosts '127.0.0.1' and 'localhost', with the default auth plugin (mysql_native_password) */
  users?: MariaUser[];
  /** databases created after start; `test` always exists */
  databases?: string[];
  /** server_id (default random in 2..2^31); binary logging (ROW, GTID) is always on so every server can be a primary */
  serverId?: number;
}

/** clean = SIGTERM (the default); kill = SIGKILL, a crash: recovery on the next start, no committed row lost (flush_log_at_trx_commit=2) */
export type MariaStopMode = "clean" | "kill";

/** A throwaway MariaDB server. dsn() defaults to user root (empty password), database test. */
export interface MariaServer extends TestServer<MariaStopMode> {
  /** the unix socket (mode 0777, in a directory everyone may traverse) */
  readonly socket: string;
  /**
   * Runs SQL (several statements allowed) as root over the unix socket with `test` as the default
   * database, via the CLI client in batch mode. Rows of every result set, as arrays of strings;
   * SQL NULL becomes null (so does the string 'NULL': the batch format cannot tell them apart).
   */
  query(sql: string): Promise<Array<Array<string | null>>>;
  /** like query() for ONE statement, but each row keyed by column name (e.g. SHOW SLAVE STATUS) */
  queryRecords(sql: string): Promise<Array<Record<string, string | null>>>;
  /**
   * A replica of this running server: own datadir, port and server_id, read_only=ON, replicating
   * with GTID (MASTER_USE_GTID=slave_pos, from the primary's first binlog, over TLS when the
   * primary has it) as user `repl`. Returns once both replication threads run and it has caught
   * up with the primary's binlog position at creation time. destroy() it too.
   */
  createReplica(): Promise<MariaServer>;
}

const QUERY_CONNECT_TIMEOUT_S = 10;
const REPLICA_TIMEOUT_MS = 30_000;
const REPL_USER = "repl";

const ENGINE: EngineTraits<MariaStopMode> = {
  name: "MariaDB",
  owner: "mysql",
  dsn: { scheme: "mysql", user: "root", database: "test" },
  stopSignals: { clean: "SIGTERM", kill: "SIGKILL" },
  defaultStop: "clean",
  crashStop: "kill", // throwaway: a crash costs nothing
};

/** the first existing executable among names × dirs (PATH plus the sbin dirs a non-root PATH lacks) */
function findExecutable(names: string[], extraDirs: string[] = []): string | undefined {
  const dirs = [...extraDirs, ...(process.env["PATH"] ?? "").split(delimiter).filter(Boolean), "/usr/sbin", "/usr/local/sbin", "/usr/libexec"];
  for (const name of names) {
    for (const dir of dirs) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

function binary(names: string[], what: string, extraDirs: string[] = []): string {
  const path = findExecutable(names, extraDirs);
  if (path === undefined) throw new Error(`${what} not found: install the mariadb-server and mariadb-client Debian packages`);
  return path;
}

/** Path of mariadbd; throws a clear Error if the MariaDB server binaries are missing. */
export function mariadbdPath(): string {
  return binary(["mariadbd", "mysqld"], "MariaDB server binary (mariadbd or mysqld in PATH, /usr/sbin, /usr/libexec)", ["/usr/sbin", "/usr/libexec"]);
}

const installDbPath = (): string => binary(["mariadb-install-db", "mysql_install_db"], "mariadb-install-db / mysql_install_db in PATH");
const clientPath = (): string => binary(["mariadb", "mysql"], "MariaDB command-line client (mariadb or mysql) in PATH");

/** `--user=mysql` when root: mariadbd refuses to run as root without it */
const userFlag = (): string[] => (isRoot ? ["--user=mysql"] : []);

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
    { cwd: layout.base, timeoutMs: TIMEOUT_MS.setup },
  );
}

/**
 * One line of `mariadb --batch` output: fields separated by tabs, with tab, newline, backslash
 * and NUL inside values escaped as \t \n \\ \0; NULL printed as the word NULL.
 */
const UNESCAPE: Readonly<Record<string, string>> = { t: "\t", n: "\n", "0": "\0", "\\": "\\" };

function parseBatch(stdout: string): Array<Array<string | null>> {
  // "" = no rows at all; "\n" = one row holding one empty string.
  if (stdout === "") return [];
  return stdout
    .replace(/\n$/, "")
    .split("\n")
    .map((line) => line.split("\t").map((f) => (f === "NULL" ? null : f.replace(/\\(.)/g, (_, c: string) => UNESCAPE[c] ?? `\\${c}`))));
}

const randomServerId = (): number => randomInt(2, 2 ** 31);

class Server extends ThrowawayServer<MariaStopMode> implements MariaServer {
  readonly socket: string;
  readonly serverId: number;

  constructor(
    layout: Layout,
    private readonly options: MariaServerOptions,
    caFile: string | undefined,
  ) {
    super(layout, caFile, ENGINE);
    this.socket = join(layout.socketDir, "mysqld.sock");
    this.serverId = options.serverId ?? randomServerId();
  }

  async query(sql: string): Promise<Array<Array<string | null>>> {
    const { stdout } = await this.#client(["--skip-column-names", "-e", sql], QUERY_CONNECT_TIMEOUT_S, TIMEOUT_MS.query);
    return parseBatch(stdout);
  }

  async queryRecords(sql: string): Promise<Array<Record<string, string | null>>> {
    const { stdout } = await this.#client(["-e", sql], QUERY_CONNECT_TIMEOUT_S, TIMEOUT_MS.query);
    const [header, ...rows] = parseBatch(stdout);
    if (header === undefined) return [];
    return rows.map((row) => Object.fromEntries(header.map((name, i) => [name ?? "NULL", row[i] ?? null])));
  }

  createReplica(): Promise<MariaServer> {
    const password = randomBytes(12).toString("hex");
    let binlogPos = "";
    return this.replicate(
      async (layout) => {
        // IF NOT EXISTS + ALTER: a second replica of the same primary reuses the account.
        const repl = `${quoteLiteral(REPL_USER)}@'127.0.0.1'`;
        await this.query(
          `CREATE USER IF NOT EXISTS ${repl}; ALTER USER ${repl} IDENTIFIED BY ${quoteLiteral(password)}; GRANT REPLICATION SLAVE ON *.* TO ${repl}`,
        );
        binlogPos = (await this.query("SELECT @@GLOBAL.gtid_binlog_pos"))[0]?.[0] ?? "";
        await installDb(layout);
        const caFile = this.caFile !== undefined ? await copyTls(this.layout, layout) : undefined;
        let serverId = randomServerId();
        while (serverId === this.serverId) serverId = randomServerId();
        // slave_net_timeout: notice a dead or hung primary within seconds (the default is a minute).
        const conf = { ...this.options.conf, read_only: "ON", slave_net_timeout: 5 };
        return new Server(layout, { conf, ssl: this.options.ssl ?? false, serverId }, caFile);
      },
      async (replica) => {
        await replica.query(this.#changeMasterSql(password, replica.caFile));
        await replica.#waitReplicating(binlogPos);
      },
    );
  }

  protected launch(): Launch {
    const { layout } = this;
    const tls = this.caFile !== undefined
      ? [`--ssl-ca=${this.caFile}`, `--ssl-cert=${join(layout.tlsDir, "server.crt")}`, `--ssl-key=${join(layout.tlsDir, "server.key")}`]
      : [];
    const conf = Object.entries(this.options.conf ?? {}).map(([k, v]) => `--${k}=${v}`);
    const args = [
      "--no-defaults", // must come first
      ...userFlag(),
      `--datadir=${layout.dataDir}`,
      `--tmpdir=${layout.tmpDir}`,
      `--port=${this.port}`,
      "--bind-address=127.0.0.1",
      `--socket=${this.socket}`,
      `--pid-file=${join(layout.base, "mysqld.pid")}`,
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
    return { file: mariadbdPath(), args };
  }

  protected async ping(): Promise<void> {
    await this.#client(["--skip-column-names", "-e", "SELECT 1"], 2, 5_000);
  }

  /** the CLI client as root over the socket, default database test */
  #client(args: string[], connectTimeoutS: number, timeoutMs: number): Promise<RunResult> {
    const common = ["--no-defaults", `--socket=${this.socket}`, "--protocol=socket", "--user=root", "--batch", `--connect-timeout=${connectTimeoutS}`];
    return run(clientPath(), [...common, "--database=test", ...args], { cwd: this.layout.base, timeoutMs });
  }

  #changeMasterSql(password: string, caFile: string | undefined): string {
    const tls = caFile !== undefined ? `, MASTER_SSL = 1, MASTER_SSL_CA = ${quoteLiteral(caFile)}, MASTER_SSL_VERIFY_SERVER_CERT = 1` : "";
    return (
      `CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${this.port}, ` +
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
}

function describeStatus(status: Record<string, string | null> | undefined): string {
  if (!status) return "SHOW SLAVE STATUS is empty";
  const keys = ["Slave_IO_State", "Slave_IO_Running", "Slave_SQL_Running", "Last_IO_Error", "Last_SQL_Error", "Gtid_IO_Pos"];
  return keys.map((k) => `${k}=${JSON.stringify(status[k] ?? null)}`).join(" ");
}

/** users and databases after the first start */
async function provision(server: Server, options: MariaServerOptions): Promise<void> {
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

/**
 * install-db + configure + start a throwaway MariaDB on a free 127.0.0.1 port.
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
export async function startMariaServer(options: MariaServerOptions = {}): Promise<MariaServer> {
  // All three binaries now, so a missing client fails here and not at the first query.
  mariadbdPath();
  installDbPath();
  clientPath();
  const layout = await layoutFor(ENGINE);
  return bringUp(
    "startMariaServer",
    layout,
    async () => {
      await installDb(layout);
      return new Server(layout, options, options.ssl ? await makeTls(layout, tlsDays(options.ssl)) : undefined);
    },
    (server) => provision(server, options),
  );
}
