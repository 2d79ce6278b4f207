import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics, type Driver } from "@alfred/db-health-core";
import { testDrivers } from "@alfred/db-health-testkit";
import { fakeTdsServer, type FakeTdsServer } from "./__fixtures__/fake-tds.js";
import { mssqlDriver } from "./definition.js";

// No SQL Server runs here: the fake TDS server with a certificate of known validity speaks TDS
// 7.x TLS (handshake inside PRELOGIN, then TDS inside TLS) and logs tedious in. What is tested is
// where the driver finds tedious' TLS socket. The fake answers no SELECT with rows, so the
// read-back fails (degraded) and no connection count or limit comes back: the certificate is
// read after the ping, which it answers.
const dir = mkdtempSync(join(tmpdir(), "dbh-mssql-tls-"));
const drivers = testDrivers(mssqlDriver);
let tls: FakeTdsServer;
let plain: FakeTdsServer;
let certFile: string;

beforeAll(async () => {
  const key = join(dir, "server.key");
  certFile = join(dir, "server.crt");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "12",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certFile,
  ], { stdio: "ignore", timeout: 20_000 });
  tls = await fakeTdsServer("accept", { key: readFileSync(key), cert: readFileSync(certFile) });
  plain = await fakeTdsServer("accept", "off");
});
afterAll(async () => {
  await drivers.closeAll();
  await Promise.allSettled([tls?.close(), plain?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const make = (port: number, params: string): Driver => drivers({ dsn: `sqlserver://sa:Not-The-Password1@127.0.0.1:${port}/master?${params}`, maxRetries: 0, connectTimeout: "5s", name: "fake-mssql" });

describe("mssql: the TLS certificate's expiry through tedious", () => {
  it("reports the notAfter of the certificate the server presented, to the second (encrypt=true)", async () => {
    const expected = Date.parse(new X509Certificate(readFileSync(certFile)).validTo);
    const r = await make(tls.port, "encrypt=true&trustServerCertificate=true").probe();
    expect(r.phases.ping?.ok, r.reason).toBe(true);
    expect(r.certificateExpiresAt).toBe(expected);
    expect(tls.logins.at(-1)?.user).toBe("sa"); // the login went through TLS and was read
    const metrics = createMetrics();
    metrics.observe(r);
    const line = (await metrics.render()).split("\n").find((l) => l.startsWith("db_tls_certificate_expiry_timestamp_seconds{"));
    console.log(line);
    expect(line).toBe(`db_tls_certificate_expiry_timestamp_seconds{db_name="mssql",db_role="primary",target="fake-mssql"} ${expected / 1000}`);
  });

  it("reports none without TLS (encrypt=false)", async () => {
    const r = await make(plain.port, "encrypt=false").probe();
    expect(r.phases.ping?.ok, r.reason).toBe(true);
    expect("certificateExpiresAt" in r).toBe(false);
  });

  it("leaves the connection limit out when the server gives no row (never 0)", async () => {
    const r = await make(plain.port, "encrypt=false").probe();
    expect("connectionsMax" in r).toBe(false);
  });
});
