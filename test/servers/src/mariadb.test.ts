/**
 * Proves the throwaway-MariaDB harness and the re-exported loopback fault helpers still work,
 * so a broken harness fails here with a clear message instead of as mysterious driver test
 * failures. Clients are the `mariadb` CLI (mysql2 is the driver's business, not the harness's).
 * One TLS primary serves most cases (users, REQUIRE SSL, replica over TLS, pause, kill) to keep
 * the file fast; require_secure_transport needs a server of its own.
 */
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mariadbdPath, startMariaServer, type MariaServer } from "./mariadb.js";
import { blackholeServer, freePort, openFds, refusedPort } from "@alfred/db-health-testkit";

const APP_PASSWORD = "p@ss w:rd/?'\\";
const TLS_PASSWORD = "tls-only-pw";

interface CliResult {
  /** exit code; null when killed by the timeout */
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** the mariadb CLI (never our defaults files), bounded by a hard child timeout */
function cli(args: string[], timeoutMs = 10_000): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      "mariadb",
      ["--no-defaults", "--batch", "--skip-column-names", ...args],
      { timeout: timeoutMs, killSignal: "SIGKILL" },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
        resolve({ code: err?.killed ? null : code, stdout: stdout.trim(), stderr: stderr.trim(), ms: Date.now() - started });
      },
    );
  });
}

const tcp = (server: MariaServer | number): string[] => ["-h127.0.0.1", `-P${typeof server === "number" ? server : server.port}`];

/** a CLI call that must succeed; returns its trimmed output */
async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`mariadb ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** polls until fn returns a value that passes, or fails with the last value */
async function until<T>(what: string, fn: () => Promise<T>, pass: (v: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await fn();
  while (!pass(v)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
    v = await fn();
  }
  return v;
}

/** resolves "timeout" when the promise has not settled within ms */
function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  return Promise.race([promise, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ms))]);
}

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    console.info(`[mariadb-server] ${label}: ${Math.round(performance.now() - started)} ms`);
  }
}

describe("mariadb-server harness", () => {
  let primary: MariaServer;

  beforeAll(async () => {
    mariadbdPath(); // clear message when the server binaries are missing
    primary = await timed("startMariaServer (ssl, 2 users, 1 database)", () =>
      startMariaServer({
        ssl: true,
        users: [
          { name: "app", password: APP_PASSWORD, grants: ["ALL ON appdb.*", "SELECT ON test.*"] },
          { name: "tlsonly", password: TLS_PASSWORD, requireSsl: true },
        ],
        databases: ["appdb"],
        conf: { max_connections: 40 },
        serverId: 7,
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await primary?.destroy();
  }, 30_000);

  it("answers SELECT 1 through query(), over TCP and over the unix socket, with its settings applied", async () => {
    expect(primary.dsn({ user: "a b", password: "p@ss:/", database: "d/b", params: { charset: "utf8mb4", skip: undefined } })).toBe(
      `mysql://a%20b:p%40ss%3A%2F@127.0.0.1:${primary.port}/d%2Fb?charset=utf8mb4`,
    );
    expect(primary.dsn()).toBe(`mysql://root@127.0.0.1:${primary.port}/test`);
    expect(await primary.query("SELECT 1")).toEqual([["1"]]);
    // Batch output is unescaped; several statements give the rows of all of them.
    expect(await primary.query("SELECT 'a\\tb', NULL, '', 'x\\\\y', 'l1\\nl2'; SELECT 2 UNION ALL SELECT 3")).toEqual([
      ["a\tb", null, "", "x\\y", "l1\nl2"],
      ["2"],
      ["3"],
    ]);
    expect(await primary.query("SELECT 1 FROM DUAL WHERE 0")).toEqual([]);
    expect(await primary.queryRecords("SELECT 1 AS one, NULL AS nothing")).toEqual([{ one: "1", nothing: null }]);
    expect(await primary.query("SELECT DATABASE(), @@server_id, @@log_bin, @@binlog_format, @@max_connections, @@character_set_server, @@read_only")).toEqual([
      ["test", "7", "1", "ROW", "40", "utf8mb4", "0"],
    ]);
    expect((await primary.query("SHOW DATABASES")).flat()).toEqual(expect.arrayContaining(["test", "appdb"]));
    // Its own tmpdir: a mariadbd starting with the shared /tmp deletes other servers' `#sql*`
    // temporary tables there (seen as "Unknown table 'mysql.tmp_user_sys'" in a parallel bootstrap).
    expect(await primary.query("SELECT @@tmpdir")).toEqual([[join(dirname(primary.dataDir), "tmp")]]);
    expect(await ok([...tcp(primary), "-uroot", "-e", "SELECT 1"])).toBe("1");
    expect(await ok([`--socket=${primary.socket}`, "--protocol=socket", "-uroot", "-e", "SELECT 1"])).toBe("1");
    // Only root (localhost, 127.0.0.1, ::1) exists besides the harness's users: no anonymous accounts.
    expect(await primary.query("SELECT CONCAT(User, '@', Host) FROM mysql.user WHERE User IN ('', 'root') ORDER BY 1")).toEqual([
      ["root@127.0.0.1"],
      ["root@::1"],
      ["root@localhost"],
    ]);
  });

  it("logs a password user in over TCP and the socket, applies its grants, and refuses a wrong password", async () => {
    const asApp = ["-uapp", `--password=${APP_PASSWORD}`];
    expect(await ok([...tcp(primary), ...asApp, "-e", "SELECT CURRENT_USER()"])).toBe("app@127.0.0.1");
    expect(await ok([`--socket=${primary.socket}`, "--protocol=socket", ...asApp, "-e", "SELECT CURRENT_USER()"])).toBe("app@localhost");
    expect(await ok([...tcp(primary), ...asApp, "appdb", "-e", "CREATE TABLE t (v int); INSERT INTO t VALUES (1); SELECT v FROM t"])).toBe("1");
    const denied = await cli([...tcp(primary), ...asApp, "-e", "SELECT COUNT(*) FROM mysql.user"]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/SELECT command denied to user 'app'@'127\.0\.0\.1'/);
    const wrong = await cli([...tcp(primary), "-uapp", "--password=wrong", "-e", "SELECT 1"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/ERROR 1045 .*Access denied for user 'app'@'127\.0\.0\.1' \(using password: YES\)/);
  });

  it("serves TLS with its own CA (host name verified) and refuses a REQUIRE SSL user over plain TCP", async () => {
    expect(primary.caFile).toBeDefined();
    const asTls = ["-utlsonly", `--password=${TLS_PASSWORD}`];
    const verified = ["--ssl", `--ssl-ca=${primary.caFile}`, "--ssl-verify-server-cert"];
    const status = "SHOW SESSION STATUS LIKE 'Ssl_version'";
    expect(await ok([...tcp(primary), ...asTls, ...verified, "-e", status])).toMatch(/^Ssl_version\tTLSv1\.[23]$/);
    // The certificate also verifies for the host name localhost (SAN), over TCP.
    expect(await ok(["-hlocalhost", "--protocol=tcp", `-P${primary.port}`, ...asTls, ...verified, "-e", "SELECT 1"])).toBe("1");
    const plain = await cli([...tcp(primary), ...asTls, "--skip-ssl", "-e", "SELECT 1"]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/Access denied for user 'tlsonly'/);
    // The REQUIRE SSL clause is what refused it.
    expect(await primary.query("SELECT ssl_type FROM mysql.user WHERE User = 'tlsonly' ORDER BY Host")).toEqual([["ANY"], ["ANY"]]);
  });

  it("creates a read-only GTID replica over TLS that replicates", async () => {
    const replica = await timed("createReplica (TLS)", () => primary.createReplica());
    try {
      expect(replica.port).not.toBe(primary.port);
      expect(replica.dataDir).not.toBe(primary.dataDir);
      expect(await replica.query("SELECT @@read_only, @@server_id <> 7, @@log_bin")).toEqual([["1", "1", "1"]]);
      expect(await primary.query("SELECT @@read_only")).toEqual([["0"]]);
      const [status] = await replica.queryRecords("SHOW SLAVE STATUS");
      expect(status).toMatchObject({
        Slave_IO_Running: "Yes",
        Slave_SQL_Running: "Yes",
        Master_Host: "127.0.0.1",
        Master_Port: String(primary.port),
        Using_Gtid: "Slave_Pos",
        Master_SSL_Allowed: "Yes",
      });
      // Caught up at creation: the users made before it exist there too.
      expect(await replica.query("SELECT COUNT(*) FROM mysql.user WHERE User = 'app'")).toEqual([["2"]]);
      await primary.query("CREATE TABLE test.harness_repl (id int PRIMARY KEY, v varchar(20)); INSERT INTO test.harness_repl VALUES (1, 'replicated')");
      const rows = await until(
        "the row on the replica",
        () => replica.query("SELECT v FROM test.harness_repl").catch(() => []),
        (r) => r.length > 0,
      );
      expect(rows).toEqual([["replicated"]]);
      // A killed and restarted primary: the replica reconnects by itself (MASTER_CONNECT_RETRY=1)
      // and nothing diverged (commits survive the kill), so replication carries on.
      await primary.stop("kill");
      await primary.start();
      await primary.query("INSERT INTO test.harness_repl VALUES (2, 'after restart')");
      const after = await until(
        "the post-restart row on the replica",
        () => replica.query("SELECT v FROM test.harness_repl ORDER BY id"),
        (r) => r.length === 2,
      );
      expect(after).toEqual([["replicated"], ["after restart"]]);
      expect(await replica.queryRecords("SHOW SLAVE STATUS")).toMatchObject([{ Slave_IO_Running: "Yes", Slave_SQL_Running: "Yes", Last_SQL_Errno: "0" }]);
      // read_only holds for ordinary users (root has READ_ONLY ADMIN).
      const write = await cli([...tcp(replica), "-uapp", `--password=${APP_PASSWORD}`, "appdb", "-e", "CREATE TABLE nope (v int)"]);
      expect(write.stderr).toMatch(/--read-only/);
    } finally {
      await replica.destroy();
      await replica.destroy(); // idempotent
    }
  }, 45_000);

  it("pause() hangs clients (TCP still accepted) and resume() lets them answer", async () => {
    primary.pause();
    let pending: Promise<CliResult> | undefined;
    try {
      pending = cli([...tcp(primary), "-uroot", "--connect-timeout=20", "-e", "SELECT 42"], 25_000);
      expect(await within(pending, 700)).toBe("timeout");
      // A bounded client gives up: the handshake reply never comes.
      const bounded = await cli([...tcp(primary), "-uroot", "--connect-timeout=1", "-e", "SELECT 1"], 10_000);
      expect(bounded.code).not.toBe(0);
      expect(bounded.ms).toBeLessThan(5_000);
      expect(bounded.stderr).toMatch(/Lost connection|timed out|timeout|reading initial communication packet/i);
      primary.pause(); // idempotent while paused
    } finally {
      primary.resume();
    }
    const answered = await within(pending, 5_000);
    expect(answered === "timeout" ? answered : answered.stdout).toBe("42");
    expect(await primary.query("SELECT 1")).toEqual([["1"]]);
  });

  it("survives stop('kill') and start() on the same port, and a clean stop()", async () => {
    const port = primary.port;
    await primary.query("CREATE TABLE test.harness_crash (v int) ENGINE=InnoDB; INSERT INTO test.harness_crash VALUES (42)");
    await timed("stop('kill')", () => primary.stop("kill"));
    const refused = await cli([...tcp(primary), "-uroot", "-e", "SELECT 1"]);
    expect(refused.code).toBe(1);
    // Connector/C reports the refused non-blocking connect as errno 115 (EINPROGRESS), not 111.
    expect(refused.stderr).toMatch(/ERROR 2002 .*Can't connect to server on '127\.0\.0\.1'/);
    await expect(primary.query("SELECT 1")).rejects.toThrow(/Can't connect to local server through socket/);
    await primary.stop("kill"); // no-op when stopped
    await timed("start() after kill (crash recovery)", () => primary.start());
    expect(primary.port).toBe(port);
    // innodb_flush_log_at_trx_commit=2: a killed process loses no commit.
    expect(await primary.query("SELECT v FROM test.harness_crash")).toEqual([["42"]]);
    await timed("stop('clean')", () => primary.stop());
    await primary.stop(); // no-op when stopped
    await timed("start() after clean stop", () => primary.start());
    await primary.start(); // no-op when running
    expect(await ok([...tcp(primary), "-uroot", "-e", "SELECT v FROM test.harness_crash"])).toBe("42");
  }, 45_000);
});

describe("require_secure_transport through conf", () => {
  let secure: MariaServer;

  beforeAll(async () => {
    secure = await timed("startMariaServer (ssl, require_secure_transport)", () =>
      startMariaServer({ ssl: true, conf: { require_secure_transport: "ON" }, users: [{ name: "app", password: APP_PASSWORD }] }),
    );
  }, 60_000);

  afterAll(async () => {
    await secure?.destroy();
  }, 30_000);

  it("refuses plain TCP for everyone, accepts TLS, and the harness keeps working over the socket", async () => {
    expect(await secure.query("SELECT @@require_secure_transport")).toEqual([["1"]]);
    for (const user of [["-uroot"], ["-uapp", `--password=${APP_PASSWORD}`]]) {
      const plain = await cli([...tcp(secure), ...user, "--skip-ssl", "-e", "SELECT 1"]);
      expect(plain.code, plain.stderr).toBe(1);
      expect(plain.stderr).toMatch(/Access denied|insecure transport/);
      const tls = ["--ssl", `--ssl-ca=${secure.caFile}`, "--ssl-verify-server-cert"];
      expect(await ok([...tcp(secure), ...user, ...tls, "-e", "SELECT 1"])).toBe("1");
    }
  });
});

describe("net-faults re-exports", () => {
  it("blackholeServer accepts and never answers; refusedPort refuses; freePort and openFds work", async () => {
    const hole = await blackholeServer();
    const fdsBefore = openFds();
    try {
      const r = await cli([...tcp(hole.port), "-uroot", "--connect-timeout=1", "-e", "SELECT 1"], 10_000);
      expect(r.code).not.toBe(0);
      expect(r.ms).toBeLessThan(5_000);
      expect(hole.connections()).toBe(1);
      await until("the client's close", async () => hole.openSockets(), (n) => n === 0, 2_000);
    } finally {
      await hole.close();
    }
    const refused = await cli([...tcp(await refusedPort()), "-uroot", "-e", "SELECT 1"]);
    expect(refused.stderr).toMatch(/ERROR 2002 .*Can't connect to server on '127\.0\.0\.1'/);
    expect(await freePort()).toBeGreaterThan(0);
    expect(Math.abs(openFds() - fdsBefore)).toBeLessThanOrEqual(2);
  });
});
