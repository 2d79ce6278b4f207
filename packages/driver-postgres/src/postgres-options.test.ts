import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createDriver, parseDsn, resolveTargetConfig } from "@alfred/db-health-core";
import { postgresDriver } from "./definition.js";
import { postgresSettings, validatePostgresDsn } from "./postgres-options.js";

const settings = (dsn: string, env: NodeJS.ProcessEnv = {}, over: Record<string, unknown> = {}) =>
  postgresSettings(parseDsn(dsn), resolveTargetConfig({ dsn, probeId: "host-1/orders", ...over }), env, "1.2.3");

describe("postgres settings", () => {
  it("maps a URL DSN with libpq parameters", () => {
    const s = settings("postgresql://app:s3cret@db.internal:6432/orders?sslmode=require&application_name=billing&connect_timeout=3&options=-c%20search_path%3Dops");
    expect(s.client).toMatchObject({
      host: "db.internal",
      port: 6432,
      user: "app",
      password: "s3cret",
      database: "orders",
      application_name: "billing",
      options: "-c search_path=ops",
    });
    expect(s.sslmode).toBe("require");
    expect(s.ssl).toEqual([{ rejectUnauthorized: false }]);
  });

  it("names the probe in application_name so a DBA recognises it, within 63 bytes", () => {
    expect(settings("postgres://db/x").client.application_name).toBe("db-health/1.2.3 host-1/orders");
    const long = settings("postgres://db/x", {}, { probeId: "p".repeat(120) }).client.application_name!;
    expect(Buffer.byteLength(long)).toBe(63);
  });

  it("sets statement_timeout and lock_timeout just under the phase deadlines", () => {
    const s = settings("postgres://db/x", {}, { readTimeout: "1s", writeTimeout: "3s" });
    expect(s.client.statement_timeout).toBe(2700);
    expect(s.client.lock_timeout).toBe(2400);
  });

  it("takes the smaller of connect_timeout and connectTimeout", () => {
    const config = (dsn: string, connectTimeout: string) => createDriver({ dsn, connectTimeout }, { definition: postgresDriver }).config.connectTimeout;
    expect(config("postgres://db/x?connect_timeout=30", "2s")).toBe(2000);
    expect(config("postgres://db/x?connect_timeout=1", "5s")).toBe(1000);
    expect(config("postgres://db/x?connect_timeout=0", "5s")).toBe(5000);
  });

  it("connects over a unix socket directory, without TLS", () => {
    for (const dsn of ["postgres://app@%2Fvar%2Frun%2Fpostgresql/x", "postgres:///x?host=/var/run/postgresql"]) {
      const s = settings(dsn);
      expect(s.client.host).toBe("/var/run/postgresql");
      expect(s.ssl).toEqual([false]);
    }
  });

  it("takes the password from PGPASSWORD, then PGPASSWORD_FILE, when the DSN has none", () => {
    expect(settings("postgres://app@db/x", { PGPASSWORD: "from-env" }).client.password).toBe("from-env");
    const file = join(mkdtempSync(join(tmpdir(), "dbh-pgpass-")), "pw");
    writeFileSync(file, "from-file\n");
    const s = settings("postgres://app@db/x", { PGPASSWORD_FILE: file });
    expect(s.client.password).toBe("from-file");
    expect(s.envPassword).toBe("from-file");
    expect(settings("postgres://app:in-dsn@db/x", { PGPASSWORD: "from-env" }).client.password).toBe("in-dsn");
    expect(() => settings("postgres://app@db/x", { PGPASSWORD_FILE: "/nonexistent/pw" })).toThrow('PGPASSWORD_FILE: cannot read "/nonexistent/pw": ENOENT');
    // A device or a FIFO is refused without being read (it would grow memory or block forever).
    expect(() => settings("postgres://app@db/x", { PGPASSWORD_FILE: "/dev/zero" })).toThrow('PGPASSWORD_FILE: cannot read "/dev/zero": it is a character device, not a regular file');
  });

  it("orders TLS attempts like libpq's sslmode", () => {
    expect(settings("postgres://db/x").ssl).toEqual([{ rejectUnauthorized: false }, false]); // prefer
    expect(settings("postgres://db/x?sslmode=allow").ssl).toEqual([false, { rejectUnauthorized: false }]);
    expect(settings("postgres://db/x?sslmode=disable").ssl).toEqual([false]);
    const dir = mkdtempSync(join(tmpdir(), "dbh-ca-"));
    writeFileSync(join(dir, "ca.pem"), "not really a cert");
    const full = settings(`postgres://db/x?sslmode=verify-full&sslrootcert=${join(dir, "ca.pem")}`).ssl[0] as { rejectUnauthorized: boolean; checkServerIdentity?: unknown; ca: Buffer };
    expect(full.rejectUnauthorized).toBe(true);
    expect(full.checkServerIdentity).toBeUndefined();
    expect(full.ca.toString()).toBe("not really a cert");
    const ca = settings(`postgres://db/x?sslmode=verify-ca&sslrootcert=${join(dir, "ca.pem")}`).ssl[0] as { checkServerIdentity?: () => unknown };
    expect(ca.checkServerIdentity?.()).toBeUndefined();
  });

  it("rejects what it cannot honour, every problem at once", () => {
    expect(() => validatePostgresDsn(parseDsn("postgres://db/x?sslmode=sometimes&connect_timeout=soon&sslrootcert=/nope/ca.pem&pool_max=10"))).toThrow(
      /^PostgreSQL DSN: unknown parameter pool_max; sslmode=sometimes is not one of disable, allow, prefer, require, verify-ca, verify-full; connect_timeout=soon must be a whole number of seconds; sslrootcert: cannot read "\/nope\/ca.pem": ENOENT/,
    );
  });

  it("refuses certificate paths that are not small regular files, without reading them", () => {
    const dir = mkdtempSync(join(tmpdir(), "dbh-pem-"));
    const fifo = join(dir, "ca.fifo");
    spawnSync("mkfifo", [fifo]);
    expect(() => validatePostgresDsn(parseDsn(`postgres://db/x?sslrootcert=${fifo}&sslcert=/dev/zero&sslkey=${dir}`))).toThrow(
      `PostgreSQL DSN: sslrootcert: cannot read "${fifo}": it is a FIFO, not a regular file; sslcert: cannot read "/dev/zero": it is a character device, not a regular file; sslkey: cannot read "${dir}": it is a directory, not a regular file`,
    );
    const big = join(dir, "big.pem");
    writeFileSync(big, Buffer.alloc(2 * 1024 * 1024));
    expect(() => validatePostgresDsn(parseDsn(`postgres://db/x?sslrootcert=${big}`))).toThrow(`sslrootcert: cannot read "${big}": it is 2 MiB, over the 1 MiB limit for a PEM file`);
  });
});
