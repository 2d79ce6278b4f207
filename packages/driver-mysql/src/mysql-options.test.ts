import { describe, expect, it } from "vitest";
import { createDriver, parseDsn, resolveTargetConfig } from "@alfred/db-health-core";
import { mysqlDriver } from "./definition.js";
import { mysqlSettings, validateMysqlDsn } from "./mysql-options.js";

const settings = (dsn: string, env: NodeJS.ProcessEnv = {}, over: Record<string, unknown> = {}) =>
  mysqlSettings(parseDsn(dsn), resolveTargetConfig({ dsn, probeId: "host-1/orders", ...over }), env, "1.2.3");

describe("mysql settings", () => {
  it("reads the Go form, the URL form, mariadb:// and unix sockets", () => {
    expect(settings("mysql://app:pw@tcp(db.internal:3307)/orders").connection).toMatchObject({ host: "db.internal", port: 3307, user: "app", password: "pw", database: "orders" });
    expect(settings("mysql://app:pw@db.internal/orders").connection).toMatchObject({ host: "db.internal", port: 3306 });
    expect(settings("mariadb://app@[::1]:3306/orders").connection).toMatchObject({ host: "::1", port: 3306 });
    const sock = settings("mysql://app@unix(/run/mysqld/mysqld.sock)/orders");
    expect(sock.connection.socketPath).toBe("/run/mysqld/mysqld.sock");
    expect(sock.connection.host).toBeUndefined();
    expect(sock.ssl).toEqual([false]);
  });

  it("names the probe in the connection attributes", () => {
    expect(settings("mysql://app@tcp(db:3306)/x").connection.connectAttributes).toEqual({ program_name: "db-health/1.2.3", probe_id: "host-1/orders" });
  });

  it("maps tls= and ssl-mode= onto TLS attempts", () => {
    expect(settings("mysql://a@tcp(h:1)/x").ssl).toEqual([{ rejectUnauthorized: false }, false]);
    expect(settings("mysql://a@tcp(h:1)/x?tls=false").ssl).toEqual([false]);
    expect(settings("mysql://a@tcp(h:1)/x?tls=skip-verify").ssl).toEqual([{ rejectUnauthorized: false }]);
    expect(settings("mysql://a@tcp(h:1)/x?tls=true").ssl).toEqual([{ rejectUnauthorized: true, verifyIdentity: true }]);
    // mysql2 would check an IP address as "localhost": the driver checks it itself.
    expect(settings("mysql://a@tcp(10.0.0.1:1)/x?tls=true").ssl).toEqual([{ rejectUnauthorized: true, checkAddress: "10.0.0.1" }]);
    expect(settings("mysql://a@tcp(h:1)/x?ssl-mode=REQUIRED").ssl).toEqual([{ rejectUnauthorized: false }]);
    expect(settings("mysql://a@tcp(h:1)/x?ssl-mode=DISABLED").ssl).toEqual([false]);
  });

  it("takes charset, and the Go timeouts as upper bounds on the deadlines", () => {
    expect(settings("mysql://a@tcp(h:1)/x?charset=utf8mb4,utf8").connection.charset).toBe("utf8mb4");
    const d = createDriver({ dsn: "mysql://a@tcp(h:1)/x?timeout=1s&readTimeout=500ms&writeTimeout=30s", writeTimeout: "2s" }, { definition: mysqlDriver });
    expect([d.config.connectTimeout, d.config.readTimeout, d.config.writeTimeout]).toEqual([1000, 500, 2000]);
  });

  it("takes the password from MYSQL_PWD when the DSN has none", () => {
    expect(settings("mysql://app@tcp(h:1)/x", { MYSQL_PWD: "env-pw" })).toMatchObject({ connection: { password: "env-pw" }, envPassword: "env-pw" });
    expect(settings("mysql://app:dsn-pw@tcp(h:1)/x", { MYSQL_PWD: "env-pw" }).connection.password).toBe("dsn-pw");
  });

  it("needs a database (or schema) for the health table", () => {
    expect(() => settings("mysql://app@tcp(h:3306)/")).toThrow(/MySQL DSN names no database/);
    expect(settings("mysql://app@tcp(h:3306)/", {}, { schema: "ops" }).table).toBe("`ops`.`_health_check`");
  });

  it("rejects what it cannot honour, every problem at once", () => {
    expect(() => validateMysqlDsn(parseDsn("mysql://a@tcp(h:1)/x?tls=maybe&timeout=soon&pool=3"))).toThrow(
      /^MySQL DSN: unknown parameter pool; tls=maybe is not one of true, false, skip-verify, preferred; timeout=soon is not a duration such as 5s or 500ms/,
    );
  });

  it("refuses an ssl-ca that is not a small regular file, without reading it", () => {
    expect(() => validateMysqlDsn(parseDsn("mysql://a@tcp(h:1)/x?ssl-ca=/dev/zero"))).toThrow(/ssl-ca: cannot read "\/dev\/zero": it is a character device, not a regular file/);
    expect(() => validateMysqlDsn(parseDsn("mysql://a@tcp(h:1)/x?ssl-ca=/nope/ca.pem"))).toThrow(/ssl-ca: cannot read "\/nope\/ca.pem": ENOENT/);
  });

  it("knows at configuration time what mysql2 would only refuse when it connects", () => {
    expect(() => validateMysqlDsn(parseDsn("mysql://a@tcp(h:1)/x?charset=klingon"))).toThrow(/charset=klingon is not a character set mysql2 knows/);
    expect(() => validateMysqlDsn(parseDsn("mysql://a@tcp(h:1)/x?charset=utf8mb4,klingon"))).toThrow(/charset=klingon/);
    expect(() => validateMysqlDsn(parseDsn("mysql://a@tcp(h:1)/x?charset=utf8mb4,latin1"))).not.toThrow();
    for (const charset of ["ucs2", "utf16", "UTF16LE", "utf32", "utf32_general_ci"]) {
      expect(() => validateMysqlDsn(parseDsn(`mysql://a@tcp(h:1)/x?charset=${charset}`))).toThrow(/cannot be a client character set/);
    }
    expect(() => validateMysqlDsn(parseDsn("mysql://a@tcp(h:1)/x?tls=true&ssl-mode=disabled"))).toThrow(/tls and ssl-mode both set TLS: keep one/);
    expect(() => validateMysqlDsn(parseDsn("mysql://a@tcp(h:1)/x?ssl-mode=required&ssl_mode=disabled"))).toThrow(/ssl-mode and ssl_mode both set TLS/);
  });
});
