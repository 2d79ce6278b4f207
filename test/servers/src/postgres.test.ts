/**
 * Proves the throwaway-cluster harness and the loopback fault helpers still work, so a broken
 * harness fails here with a clear message instead of as mysterious driver test failures.
 * One cluster serves every case (TLS, hba lines and roles together) to keep the file fast.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blackholeServer, openFds, refusedPort } from "@alfred/db-health-testkit";
import { pgBinDir, startCluster, type PgCluster } from "./postgres.js";

const APP_PASSWORD = "p@ss w:rd/?'";

/** a connected client over TCP; the caller ends it */
async function tcpClient(cluster: PgCluster, config: pg.ClientConfig = {}): Promise<pg.Client> {
  const client = new pg.Client({
    host: "127.0.0.1",
    port: cluster.port,
    user: "postgres",
    database: "postgres",
    connectionTimeoutMillis: 5000,
    ...config,
  });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** a connection attempt that must fail; returns the error message */
async function refusal(config: pg.ClientConfig): Promise<string> {
  const client = new pg.Client({ connectionTimeoutMillis: 5000, ...config });
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
  throw new Error("connection unexpectedly succeeded");
}

/** resolves "timeout" when the promise has not settled within ms */
function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  return Promise.race([promise, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ms))]);
}

describe("pg-cluster harness", () => {
  let primary: PgCluster;

  beforeAll(async () => {
    pgBinDir(); // clear message when the server binaries are missing
    primary = await startCluster({
      ssl: true,
      hba: ["hostssl all sslonly 127.0.0.1/32 trust", "hostnossl all sslonly 127.0.0.1/32 reject"],
      users: [{ name: "app", password: APP_PASSWORD }, { name: "sslonly" }],
      databases: ["appdb"],
      conf: { application_name: "harness-test" },
    });
  }, 60_000);

  afterAll(async () => {
    await primary?.destroy();
  }, 30_000);

  it("answers SELECT 1 over the unix socket and over TCP", async () => {
    expect(primary.dsn({ user: "a b", password: "p@ss:/", database: "d/b", params: { options: "-c x=1", skip: undefined } })).toBe(
      `postgres://a%20b:p%40ss%3A%2F@127.0.0.1:${primary.port}/d%2Fb?options=-c%20x%3D1`,
    );
    expect(await primary.query<{ one: number }>("SELECT 1 AS one")).toEqual([{ one: 1 }]);
    expect(await primary.query("SELECT current_database() AS db", [], "appdb")).toEqual([{ db: "appdb" }]);
    const client = new pg.Client({ connectionString: primary.dsn({ params: { application_name: "tcp check" } }) });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT 1 AS one, current_setting('application_name') AS app");
      expect(rows).toEqual([{ one: 1, app: "tcp check" }]);
    } finally {
      await client.end();
    }
  });

  it("authenticates a password user with SCRAM and refuses a wrong password", async () => {
    const ok = new pg.Client({ connectionString: primary.dsn({ user: "app", password: APP_PASSWORD, database: "appdb" }) });
    await ok.connect();
    try {
      expect((await ok.query("SELECT current_user AS u")).rows).toEqual([{ u: "app" }]);
    } finally {
      await ok.end();
    }
    const [hash] = await primary.query<{ scram: boolean }>(
      "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' AS scram FROM pg_authid WHERE rolname = $1",
      ["app"],
    );
    expect(hash?.scram).toBe(true);
    const message = await refusal({ connectionString: primary.dsn({ user: "app", password: "wrong" }) });
    expect(message).toMatch(/password authentication failed for user "app"/);
  });

  it("exposes the server certificate it presents, valid for the default 3 days", () => {
    const cert = new X509Certificate(readFileSync(primary.certFile!));
    expect(cert.checkIssued(new X509Certificate(readFileSync(primary.caFile!)))).toBe(true);
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    expect(days).toBe(3);
  });

  it("serves TLS with its own CA and applies hostssl/hostnossl lines", async () => {
    expect(primary.caFile).toBeDefined();
    const ca = readFileSync(primary.caFile!);
    const tls = await tcpClient(primary, { user: "sslonly", ssl: { ca } });
    try {
      const { rows } = await tls.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
      expect(rows).toEqual([{ ssl: true }]);
    } finally {
      await tls.end();
    }
    // The certificate also verifies for the host name localhost (SAN).
    const byName = await tcpClient(primary, { host: "localhost", user: "sslonly", ssl: { ca } });
    await byName.end();
    const plain = await refusal({ host: "127.0.0.1", port: primary.port, user: "sslonly", database: "postgres" });
    expect(plain).toMatch(/pg_hba\.conf rejects connection.*no encryption/);
  });

  it("creates a streaming replica", async () => {
    const replica = await primary.createReplica();
    try {
      expect(replica.port).not.toBe(primary.port);
      expect(await replica.query("SELECT pg_is_in_recovery() AS r")).toEqual([{ r: true }]);
      expect(await primary.query("SELECT pg_is_in_recovery() AS r")).toEqual([{ r: false }]);
      await primary.query("CREATE TABLE harness_stream (v text)");
      await primary.query("INSERT INTO harness_stream VALUES ($1)", ["streamed"]);
      const deadline = Date.now() + 15_000;
      let rows: unknown[] = [];
      while (Date.now() < deadline) {
        rows = await replica.query("SELECT v FROM harness_stream").catch(() => []);
        if (rows.length > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(rows).toEqual([{ v: "streamed" }]);
      const senders = await primary.query("SELECT state FROM pg_stat_replication");
      expect(senders).toEqual([{ state: "streaming" }]);
    } finally {
      await replica.destroy();
      await replica.destroy(); // idempotent
    }
  }, 45_000);

  it("pause() hangs the server (TCP still accepted) and resume() lets it answer", async () => {
    const client = await tcpClient(primary);
    try {
      primary.pause();
      let pending: Promise<unknown> | undefined;
      try {
        pending = client.query("SELECT 1 AS one");
        expect(await within(pending, 500)).toBe("timeout");
        // A new connection completes the TCP handshake (kernel backlog) but never gets a reply.
        const raw = connect({ host: "127.0.0.1", port: primary.port });
        raw.on("error", () => {});
        await new Promise<void>((resolve) => raw.once("connect", () => resolve()));
        raw.destroy();
        const message = await refusal({ host: "127.0.0.1", port: primary.port, user: "postgres", connectionTimeoutMillis: 500 });
        expect(message).toMatch(/timeout/i);
      } finally {
        primary.resume();
      }
      const result = (await within(pending, 5000)) as pg.QueryResult | "timeout";
      expect(result === "timeout" ? result : result.rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
  });

  it("survives stop('immediate') and start()", async () => {
    await primary.query("CREATE TABLE harness_crash (v int)");
    await primary.query("INSERT INTO harness_crash VALUES (42)");
    await primary.query("CHECKPOINT");
    await primary.stop("immediate");
    expect(await refusal({ host: "127.0.0.1", port: primary.port, user: "postgres" })).toMatch(/ECONNREFUSED/);
    await primary.start();
    expect(await primary.query("SELECT v FROM harness_crash")).toEqual([{ v: 42 }]);
    await primary.stop();
    await primary.start();
    expect(await primary.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
  }, 45_000);
});

describe("net-faults", () => {
  it("blackholeServer accepts and never answers; refusedPort refuses; openFds counts", async () => {
    const hole = await blackholeServer();
    const fdsBefore = openFds();
    try {
      const message = await refusal({ host: "127.0.0.1", port: hole.port, user: "postgres", connectionTimeoutMillis: 300 });
      expect(message).toMatch(/timeout/i);
      expect(hole.connections()).toBe(1);
      await new Promise((r) => setTimeout(r, 50)); // let the server see the client's close
      expect(hole.openSockets()).toBe(0);
    } finally {
      await hole.close();
    }
    const port = await refusedPort();
    expect(await refusal({ host: "127.0.0.1", port, user: "postgres" })).toMatch(/ECONNREFUSED/);
    expect(openFds()).toBeGreaterThan(0);
    expect(Math.abs(openFds() - fdsBefore)).toBeLessThanOrEqual(2);
  });
});
