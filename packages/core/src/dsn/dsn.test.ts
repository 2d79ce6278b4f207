import { describe, expect, it } from "vitest";
import { describeDsn, dsnScheme, dsnSecrets, parseDsn, redactDsn, type ParsedDsn } from "./dsn.js";
import { isDbHealthError } from "../contract/errors.js";
import { redact } from "../redact/redact.js";

const forms: [dsn: string, expected: ParsedDsn][] = [
  // PostgreSQL
  [
    "postgres://user:pass@host:5432/dbname",
    { scheme: "postgres", form: "url", user: "user", password: "pass", host: "host", port: 5432, database: "dbname", params: {} },
  ],
  ["postgresql://user:pass@host/dbname", { scheme: "postgresql", form: "url", user: "user", password: "pass", host: "host", database: "dbname", params: {} }],
  [
    "postgres://app:pw@db:5432/orders?sslmode=require&application_name=x&options=-c%20statement_timeout%3D5s",
    {
      scheme: "postgres",
      form: "url",
      user: "app",
      password: "pw",
      host: "db",
      port: 5432,
      database: "orders",
      params: { sslmode: "require", application_name: "x", options: "-c statement_timeout=5s" },
    },
  ],
  ["postgres://%2Fvar%2Frun%2Fpostgresql/db", { scheme: "postgres", form: "url", socket: "/var/run/postgresql", database: "db", params: {} }],
  [
    "postgres:///db?host=/var/run/postgresql",
    { scheme: "postgres", form: "url", socket: "/var/run/postgresql", database: "db", params: { host: "/var/run/postgresql" } },
  ],
  ["postgres://u:p@[::1]:5433/db", { scheme: "postgres", form: "url", user: "u", password: "p", host: "::1", port: 5433, database: "db", params: {} }],
  ["POSTGRES://u@Host/db", { scheme: "postgres", form: "url", user: "u", host: "Host", database: "db", params: {} }],
  ["postgres://u:p@ss@host/db", { scheme: "postgres", form: "url", user: "u", password: "p@ss", host: "host", database: "db", params: {} }],
  ["postgres://u:pa/ss@host/db", { scheme: "postgres", form: "url", user: "u", password: "pa/ss", host: "host", database: "db", params: {} }],
  ["postgres://u:p%40ss%2F100%25@host/db", { scheme: "postgres", form: "url", user: "u", password: "p@ss/100%", host: "host", database: "db", params: {} }],
  ["postgres://u:se cret@host/db", { scheme: "postgres", form: "url", user: "u", password: "se cret", host: "host", database: "db", params: {} }],
  [
    "postgres://h/db?user=app&password=qw%26e",
    { scheme: "postgres", form: "url", host: "h", password: "qw&e", database: "db", params: { user: "app" } },
  ],
  [
    "postgres://app:pw@db:5432/orders?application_name=me@corp",
    { scheme: "postgres", form: "url", user: "app", password: "pw", host: "db", port: 5432, database: "orders", params: { application_name: "me@corp" } },
  ],
  [
    "postgres://db:5432/orders?user=alice@corp",
    { scheme: "postgres", form: "url", host: "db", port: 5432, database: "orders", params: { user: "alice@corp" } },
  ],
  // MySQL / MariaDB
  [
    "mysql://user:pass@tcp(host:3306)/db",
    { scheme: "mysql", form: "go-mysql", user: "user", password: "pass", host: "host", port: 3306, database: "db", params: {} },
  ],
  [
    "mysql://user:pass@tcp([::1]:3306)/db?tls=true",
    { scheme: "mysql", form: "go-mysql", user: "user", password: "pass", host: "::1", port: 3306, database: "db", params: { tls: "true" } },
  ],
  [
    "mysql://user@unix(/run/mysqld/mysqld.sock)/db",
    { scheme: "mysql", form: "go-mysql", user: "user", socket: "/run/mysqld/mysqld.sock", database: "db", params: {} },
  ],
  ["mysql://user:pass@host:3306/db", { scheme: "mysql", form: "url", user: "user", password: "pass", host: "host", port: 3306, database: "db", params: {} }],
  ["mariadb://root:@127.0.0.1:3306/", { scheme: "mariadb", form: "url", user: "root", password: "", host: "127.0.0.1", port: 3306, params: {} }],
  ["mariadb://user:pass@tcp(db)/shop", { scheme: "mariadb", form: "go-mysql", user: "user", password: "pass", host: "db", database: "shop", params: {} }],
  // SQLite
  ["file:db.sqlite?cache=shared&mode=rwc", { scheme: "file", form: "sqlite-file", database: "db.sqlite", params: { cache: "shared", mode: "rwc" } }],
  ["file:///tmp/x.db?mode=ro", { scheme: "file", form: "sqlite-file", database: "/tmp/x.db", params: { mode: "ro" } }],
  ["file://localhost/tmp/x.db", { scheme: "file", form: "sqlite-file", database: "/tmp/x.db", params: {} }],
  ["file::memory:?cache=shared", { scheme: "file", form: "sqlite-file", database: ":memory:", params: { cache: "shared" } }],
  ["file:my%20data.db", { scheme: "file", form: "sqlite-file", database: "my data.db", params: {} }],
  ["file:///C:/data/app.db", { scheme: "file", form: "sqlite-file", database: "C:/data/app.db", params: {} }],
  ["sqlite:///abs/path.db", { scheme: "sqlite", form: "sqlite-file", database: "/abs/path.db", params: {} }],
  ["sqlite://relative.db", { scheme: "sqlite", form: "sqlite-file", database: "relative.db", params: {} }],
  ["sqlite:relative.db", { scheme: "sqlite", form: "sqlite-file", database: "relative.db", params: {} }],
  ["sqlite3:///var/lib/app.db", { scheme: "sqlite3", form: "sqlite-file", database: "/var/lib/app.db", params: {} }],
  ["sqlite3://x.db", { scheme: "sqlite3", form: "sqlite-file", database: "x.db", params: {} }],
  ["sqlite3:x.db?mode=ro", { scheme: "sqlite3", form: "sqlite-file", database: "x.db", params: { mode: "ro" } }],
  ["SQLITE3://localhost/var/lib/app.db", { scheme: "sqlite3", form: "sqlite-file", database: "/var/lib/app.db", params: {} }],
  ["sqlite3::memory:", { scheme: "sqlite3", form: "sqlite-file", database: ":memory:", params: {} }],
  ["file:?mode=memory", { scheme: "file", form: "sqlite-file", database: ":memory:", params: { mode: "memory" } }],
  ["sqlite3://?mode=memory&cache=shared", { scheme: "sqlite3", form: "sqlite-file", database: ":memory:", params: { mode: "memory", cache: "shared" } }],
  ["./data/app.db", { scheme: "file", form: "path", database: "./data/app.db", params: {} }],
  ["/var/lib/x.sqlite", { scheme: "file", form: "path", database: "/var/lib/x.sqlite", params: {} }],
  ["C:\\data\\app.db", { scheme: "file", form: "path", database: "C:\\data\\app.db", params: {} }],
  [":memory:", { scheme: "file", form: "memory", database: ":memory:", params: {} }],
  // SQL Server
  [
    "sqlserver://user:pass@host:1433/db",
    { scheme: "sqlserver", form: "url", user: "user", password: "pass", host: "host", port: 1433, database: "db", params: {} },
  ],
  [
    "sqlserver://user:pass@host:1433?database=db",
    { scheme: "sqlserver", form: "url", user: "user", password: "pass", host: "host", port: 1433, database: "db", params: { database: "db" } },
  ],
  [
    "sqlserver://u:p@host\\SQLEXPRESS/db",
    { scheme: "sqlserver", form: "url", user: "u", password: "p", host: "host", instance: "SQLEXPRESS", database: "db", params: {} },
  ],
  [
    "sqlserver://u:p@host%5Cinst:1433/db",
    { scheme: "sqlserver", form: "url", user: "u", password: "p", host: "host", instance: "inst", port: 1433, database: "db", params: {} },
  ],
  ["mssql://sa:pw@db/master", { scheme: "mssql", form: "url", user: "sa", password: "pw", host: "db", database: "master", params: {} }],
  [
    "Server=tcp:db.example,1433;Database=app;User Id=sa;Password={p;ss};Encrypt=true;",
    {
      scheme: "sqlserver",
      form: "ado",
      user: "sa",
      password: "p;ss",
      host: "db.example",
      port: 1433,
      database: "app",
      params: { Server: "tcp:db.example,1433", Database: "app", "User Id": "sa", Encrypt: "true" },
    },
  ],
  [
    "Data Source=host\\inst;Initial Catalog=app;User ID=sa;Pwd=x",
    {
      scheme: "sqlserver",
      form: "ado",
      user: "sa",
      password: "x",
      host: "host",
      instance: "inst",
      database: "app",
      params: { "Data Source": "host\\inst", "Initial Catalog": "app", "User ID": "sa" },
    },
  ],
  [
    `Server = db ; PWD = "a""b;c" ; App Name='it''s'`,
    { scheme: "sqlserver", form: "ado", password: 'a"b;c', host: "db", params: { Server: "db", "App Name": "it's" } },
  ],
  ["Server=db;Password={a}}b}", { scheme: "sqlserver", form: "ado", password: "a}b", host: "db", params: { Server: "db" } }],
];

describe("parseDsn", () => {
  it.each(forms)("%s", (dsn, expected) => {
    expect(parseDsn(dsn)).toEqual(expected);
  });

  it("ignores surrounding whitespace", () => {
    expect(parseDsn("  postgres://u@h/db\n")).toEqual(parseDsn("postgres://u@h/db"));
  });

  it("keeps a __proto__ parameter as data", () => {
    const { params } = parseDsn("postgres://h/db?__proto__=x");
    expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
    expect(Object.keys(params)).toEqual(["__proto__"]);
  });

  const invalid: [dsn: string, hint: RegExp][] = [
    ["", /empty/],
    ["   \t\n", /empty/],
    ["postgres://host:notaport/db", /port must be a number from 1 to 65535/],
    ["postgres://host:0/db", /port .*\(got 0\)/],
    ["mysql://u@tcp(host:99999)/db", /\(got 99999\)/],
    ["mysql://u:pw@tcp(host:3306/db", /unbalanced "tcp\(".*\)"/],
    ["mysql://u@udp(host:3306)/db", /unknown network "udp"/],
    ["mysql://u@unix()/db", /socket path/],
    ["mysql://u@tcp(h:3306)x/db", /expected "\/database"/],
    ["postgres://u@[::1:5432/db", /unbalanced "\["/],
    ["postgres://u@::1:5432/db", /brackets/],
    ["postgres://my host/db", /whitespace/],
    ["localhost:5432/db", /looks like host:port but has no scheme: write a URL such as postgres:\/\/localhost:5432\/db/],
    ["file:", /no database file after "file:"/],
    ["sqlite://", /no database file after "sqlite:"/],
    ["sqlite3://", /no database file after "sqlite3:": use e\.g\. sqlite3:data\/app\.db/],
    ["sqlite3:", /no database file/],
    ["file:?mode=rwc", /no database file/],
    ["sqlite://?mode=ro", /no database file/],
    ["file://localhost", /no database file/],
    ["file:#x", /"#" cannot appear in a SQLite URI: percent-encode it as %23/],
    ["file://var/lib/app.db", /file:\/\/var\/… names the host "var": write file:\/\/\/PATH \(three slashes\)/],
    ["sqlite://db.example.com/app.db", /names the host "db\.example\.com"/],
    ["postgres://u@h/db#x", /"#" cannot appear after the host: percent-encode it as %23/],
    ["postgres://u@h/db?sslmode=require&x", /a query part has no "=": percent-encode "&" inside a value as %26/],
    ["host=db dbname=app password=zz", /ADO form.*postgres:\/\//],
    ["user:pw@tcp(db:3306)/shop", /mysql:\/\//],
    ["Database=app;User Id=sa", /names no server/],
    ["Server=db;Password={unterminated", /never closes/],
    ['Server=db;Password="a"b;', /unexpected text after the quoted value/],
    ["Server=db;Encrypt", /Key=Value/],
    ["Server=db;=x", /no key/],
    ["Server=db,70000", /got 70000/],
  ];

  it.each(invalid)("rejects %j", (dsn, hint) => {
    let caught: unknown;
    try {
      parseDsn(dsn);
    } catch (err) {
      caught = err;
    }
    expect(isDbHealthError(caught)).toBe(true);
    const error = caught as Error & { kind: string };
    expect(error.kind).toBe("config");
    expect(error.message).toMatch(hint);
    expect(error.message).not.toContain("\n");
  });

  it.each([
    ["postgres://app:hunter2@host:notaport/db", "hunter2"],
    ["postgres://app:hunter2/db", "hunter2"],
    ["mysql://app:hunter2@tcp(host:3306/db", "hunter2"],
    ["mysql://app:hunter2@tcp(host:0)/db", "hunter2"],
    ["Server=db;Password=hunt;er2;Encrypt", "er2"],
    ["Server=db,99999;Password={hunter2}", "hunter2"],
    ["host=db password=hunter2", "hunter2"],
  ])("never shows the password in the error for %j", (dsn, secret) => {
    expect(() => parseDsn(dsn)).toThrow();
    try {
      parseDsn(dsn);
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
    }
  });
});

describe("dsnScheme", () => {
  it.each([
    ["postgres://u@h/db", "postgres"],
    ["PostgreSQL://u@h/db", "postgresql"],
    ["mysql://u:p@tcp(h:3306)/db", "mysql"],
    ["mariadb://u@h/db", "mariadb"],
    ["file:db.sqlite?mode=rwc", "file"],
    ["sqlite:///x.db", "sqlite"],
    ["sqlite3:x.db", "sqlite3"],
    ["./app.db", "file"],
    ["app.db", "file"],
    [":memory:", "file"],
    ["C:\\data\\app.db", "file"],
    ["sqlserver://sa@h", "sqlserver"],
    ["mssql://sa@h", "mssql"],
    ["Server=db;Database=x", "sqlserver"],
    ["Data Source=db", "sqlserver"],
    ["redis://h:6379", "redis"],
  ])("%s → %s", (dsn, scheme) => {
    expect(dsnScheme(dsn)).toBe(scheme);
  });

  it("throws a config error for an empty DSN", () => {
    expect(() => dsnScheme("")).toThrow(expect.objectContaining({ kind: "config" }));
    expect(() => dsnScheme("  ")).toThrow(/empty/);
  });
});

describe("redactDsn", () => {
  it.each([
    ["postgres://user:pass@host:5432/dbname", "postgres://user:***@host:5432/dbname"],
    ["postgres://u:p@ss@host/db?sslmode=require", "postgres://u:***@host/db?sslmode=require"],
    ["postgres://u:pa/ss@host/db", "postgres://u:***@host/db"],
    ["postgres://h/db?user=app&password=x%26y&sslpassword=kp", "postgres://h/db?user=app&password=***&sslpassword=***"],
    ["mysql://user:pass@tcp([::1]:3306)/db?tls=true", "mysql://user:***@tcp([::1]:3306)/db?tls=true"],
    ["mysql://user@unix(/run/mysqld/mysqld.sock)/db", "mysql://user@unix(/run/mysqld/mysqld.sock)/db"],
    ["sqlserver://u:p@host\\SQLEXPRESS/db", "sqlserver://u:***@host\\SQLEXPRESS/db"],
    ["Server=tcp:db,1433;User Id=sa;Password={p;ss};Encrypt=true", "Server=tcp:db,1433;User Id=sa;Password=***;Encrypt=true"],
    ["postgres://db/x?password=a&b=c&sslmode=require", "postgres://db/x?password=***&sslmode=require"],
    ["Server=db;Password=a;b=c;User Id=sa", "Server=db;Password=***;User Id=sa"],
    ["Data Source=h;Pwd=se cret;User ID=sa", "Data Source=h;Pwd=***;User ID=sa"],
    ["file:db.sqlite?cache=shared&mode=rwc", "file:db.sqlite?cache=shared&mode=rwc"],
    [" postgres://u:p@h/db ", " postgres://u:***@h/db "],
    ["postgres://u:secret@host:notaport/db", "postgres://u:***@host:notaport/db"],
  ])("%s", (dsn, expected) => {
    expect(redactDsn(dsn)).toBe(expected);
  });
});

describe("describeDsn", () => {
  it.each([
    ["postgres://app:pw@db.example:5432/orders?sslmode=require&sslpassword=x", "postgres://app@db.example:5432/orders"],
    ["postgres:///orders?host=/var/run/postgresql", "postgres://unix(/var/run/postgresql)/orders"],
    ["postgres://u:p@[::1]:5433/db", "postgres://u@[::1]:5433/db"],
    ["mysql://root:pw@tcp(db:3306)/shop?tls=true", "mysql://root@db:3306/shop"],
    ["mysql://root@unix(/run/mysqld/mysqld.sock)/shop", "mysql://root@unix(/run/mysqld/mysqld.sock)/shop"],
    ["file:/var/lib/app.db?mode=ro", "sqlite:/var/lib/app.db"],
    ["/var/lib/app.db", "sqlite:/var/lib/app.db"],
    [":memory:", "sqlite::memory:"],
    ["sqlite3:///var/lib/app.db", "sqlite:/var/lib/app.db"],
    ["file:?mode=memory", "sqlite::memory:"],
    ["sqlserver://sa:pw@db%5CSQLEXPRESS:1433/master", "sqlserver://sa@db\\SQLEXPRESS:1433/master"],
    ["Server=db\\SQLEXPRESS,1433;Database=master;User Id=sa;Password=pw", "sqlserver://sa@db\\SQLEXPRESS:1433/master"],
    ["postgres://app:hunter2@host:notaport/db?sslmode=require", "postgres://app:***@host:notaport/db"],
    ["", "<invalid dsn>"],
  ])("%s → %s", (dsn, label) => {
    expect(describeDsn(dsn)).toBe(label);
  });

  it.each(forms)("never shows the password or a query parameter: %s", (dsn, parsed) => {
    const label = describeDsn(dsn);
    if (parsed.password && parsed.password.length > 1) expect(label).not.toContain(parsed.password);
    for (const value of Object.values(parsed.params)) if (value.length > 4) expect(label).not.toContain(`=${value}`);
    expect(label).not.toContain("?");
  });
});

describe("dsnSecrets", () => {
  it.each([
    ["postgres://u:p%40ss@h/db", ["p%40ss", "p@ss"]],
    ["postgres://u:plain@h/db", ["plain"]],
    ["postgres://h/db?password=a%20b", ["a%20b", "a b"]],
    ["Server=db;Password={a}}b}", ["a}}b", "a}b", "{a}}b}"]],
    ["postgres://db/x?password=a&b=c&sslmode=require", ["a", "a&b=c"]],
    ["postgres://u@h/db", []],
    ["file:x.db", []],
    ["file:?password=s3cr3t", ["s3cr3t"]],
    ["mysql://u:hunter2@tcp(h:3306/db", ["hunter2"]],
  ])("%s", (dsn, secrets) => {
    expect(dsnSecrets(dsn)).toEqual(secrets);
  });
});

describe("parsing and redaction agree on random passwords", () => {
  // Deterministic pseudo-random passwords made of the characters that make URLs ambiguous.
  let seed = 0x5eed;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const chars = [..."abcXYZ019@:/?#;!$&()*+,=[]{}~ä🔑"];
  const hosts = ["db.example:5432", "[::1]:5433", "db", "tcp(db:3306)"];

  it("the password is found exactly, and gone from logs", () => {
    for (let n = 0; n < 3000; n++) {
      let password = "";
      for (let i = 4 + Math.floor(next() * 12); i > 0; i--) password += chars[Math.floor(next() * chars.length)] ?? "";
      // Known ambiguous: a password starting with "@", or holding another "scheme://".
      if (password.startsWith("@") || /[A-Za-z0-9]:\/\//.test(password)) continue;
      const host = hosts[n % hosts.length] ?? "db";
      const scheme = host.startsWith("tcp(") ? "mysql" : ["postgres", "sqlserver", "mysql"][n % 3] ?? "postgres";
      const dsn = `${scheme}://app:${password}@${host}/orders`;
      const encoded = `${scheme}://app:${encodeURIComponent(password)}@${host}/orders`;
      expect(parseDsn(dsn).password, dsn).toBe(password);
      expect(parseDsn(encoded).password, encoded).toBe(password);
      expect(redactDsn(dsn), dsn).toBe(`${scheme}://app:***@${host}/orders`);
      const logged = redact(`connect ETIMEDOUT for ${dsn} after 5s`);
      expect(logged, dsn).toBe(`connect ETIMEDOUT for ${scheme}://app:***@${host}/orders after 5s`);
      expect(describeDsn(dsn), dsn).not.toContain(password);
    }
  });
});

describe("a DSN becomes a SQLite path only when it clearly is one", () => {
  const refused: [dsn: string, hint: RegExp, secret?: string][] = [
    ["127.0.0.1:5432", /looks like host:port but has no scheme: write a URL such as postgres:\/\/127\.0\.0\.1:5432\/db/],
    ["db.example:5432/orders", /looks like host:port/],
    ["[::1]:5432", /looks like host:port/],
    [":", /a plain path cannot contain ":"/],
    [";;;==;;", /a plain path cannot contain ";"/],
    ["localhost", /no scheme and is not clearly a file path/],
    ["db.example.com", /no scheme and is not clearly a file path/],
    ["app@db", /looks like user@host/],
    ["~/app.db", /"~" is not expanded/],
    ["app.db?mode=ro", /cannot contain "\?".*file:PATH/],
    ["127.0.0.1/test", /looks like host\/database but has no scheme: write a URL such as postgres:\/\/127\.0\.0\.1\/db, or \.\/127\.0\.0\.1\/test/],
    ["localhost/shop", /looks like host\/database/],
    ["db.example.com/orders", /looks like host\/database/],
    ["postgres//u@h/db", /mistyped: did you mean postgres:\/\/…\?/],
    ["postgres:/u:SECRETpw@h/db", /mistyped/, "SECRETpw"],
    ["mysql//root:SECRETpw@tcp(h:3306)/db", /mistyped: did you mean mysql:\/\//, "SECRETpw"],
    ['"postgres://u@h/db"', /remove the quotes/],
    ["'postgres://u@h/db'", /remove the quotes/],
    ["postgres://u@h/db'", /ends with a quote/],
    ["app:p w SECRET@tcp(127.0.0.1:3306)/shop", /Go-style MySQL DSNs need the scheme/, "w SECRET"],
    ["adv_my:SECRET pw@tcp(127.0.0.1:3306)/shop", /Go-style MySQL DSNs need the scheme/, "SECRET"],
    ["host=h password='it's SECRET'", /ADO form/, "s SECRET"],
    ["host=h password=a b SECRET user=x", /ADO form/, "SECRET"],
    ["postgres://u@h/te\u0001st", /control character \(U\+0001/],
    ["postgres://u@h/db\nx", /control character \(U\+000A/],
    // A password that starts with "/" after a user without a scheme: everything from the colon on.
    ["app:/Zk7QpW9x@db:5432/orders", /mistyped/, "Zk7QpW9x"],
    ["u:/Zk7Qab@127.0.0.1:5432/test", /looks like user@host/, "Zk7Qab"],
    ["host=db dbname=orders password='abc user=Zk7Qcd'", /ADO form/, "Zk7Qcd"],
  ];

  it.each(refused)("refuses %j", (dsn, hint, secret) => {
    let caught: unknown;
    try {
      dsnScheme(dsn);
    } catch (err) {
      caught = err;
    }
    expect(isDbHealthError(caught), dsn).toBe(true);
    const message = (caught as Error).message;
    expect(message).toMatch(hint);
    if (secret) expect(message).not.toContain(secret);
    expect(() => parseDsn(dsn)).toThrow(expect.objectContaining({ kind: "config" }));
    if (secret) expect(describeDsn(dsn)).not.toContain(secret);
    if (secret) expect(redactDsn(dsn)).not.toContain(secret);
  });

  it.each(["app.db", "data/app", "./db.example.com/orders", "db.example.com/app.db", "/var/lib/x", "./x", "../x.sqlite3", "C:\\data\\app.db", "/data/my app.db", "file:127.0.0.1:5432", "file:/tmp/x.db", "sqlite:/x.db"])(
    "reads %j as SQLite",
    (dsn) => {
      expect(dsnScheme(dsn)).toMatch(/^(file|sqlite)$/);
    },
  );
});

describe("values a client would read differently are refused", () => {
  const refused: [dsn: string, hint: RegExp, secret?: string][] = [
    ["postgres://u:p%zzSECRET@h/db", /the password has a "%" that is not followed by two hex digits/, "zzSECRET"],
    ["postgres://u:SECRET%@h/db", /the password has a "%"/, "SECRET"],
    ["postgres://u:SECRET%ff@h/db", /the password has percent-escapes that are not UTF-8/, "SECRET"],
    ["file:/tmp/%zz.db", /the file path has a "%"/],
    ["postgres://u@h/d%zzb", /the database name has a "%"/],
    ["postgres://u%zz@h/db", /the user name has a "%"/],
    ["postgres://u@h/db?sslmode=%zz", /parameter sslmode has a "%"/],
    ["postgres://u@h/te%01st", /the database name contains a control character/],
    ["postgres://u@h%0a/db", /the host contains a control character/],
    ["postgres://u@h1,h2/db", /several hosts \(h1,h2\) are not supported/],
    ["postgres://u:SECRET@h1:5432,h2:5432/db", /several hosts/, "SECRET"],
    ["postgres://u@h/db?sslmode=disable&sslmode=require", /parameter sslmode is given twice/],
    ["postgres://u:SECRET@h/db?password=OTHERpw", /the password is given twice/, "OTHERpw"],
    ["postgres://u@h/db?password=SECRET&password=OTHERpw", /the password is given twice/, "OTHERpw"],
    ["Server=a;Data Source=b;Password=SECRET", /"Server" and "Data Source" \(one setting\) is given twice/, "SECRET"],
    ["Server=a;Pwd=SECRET;Password=OTHERpw", /the password is given twice/, "OTHERpw"],
    ["Server=a;Database=x;DATABASE=y", /"Database" is given twice/],
    ["postgres://postgres@127.0.0.1:5432/test?port=1", /the port is given twice, in the address and as \?port=/],
    ["postgres://postgres@127.0.0.1:5432/test?dbname=other", /the database is given twice, in the address and as \?dbname=/],
    ["postgres://postgres@127.0.0.1:5432/test?user=other", /the user is given twice, in the address and as \?user=/],
    ["postgres://postgres@db/test?host=/var/run/postgresql", /the host is given twice, in the address and as \?host=/],
    ["sqlserver://sa@h1:1433/a?database=b&server=h2", /the host is given twice, in the address and as \?server=/],
    ["sqlserver://h1:1433?database=a&dbname=b", /the database is given twice, as \?database= and \?dbname=/],
    ["postgres://app@db:5432/orders?pass%77ord=Zk7Qs3cret#1", /"#" cannot appear after the host/, "Zk7Qs3cret"],
    ["postgres://app@db:5432/orders?password%3DZk7Qef#x", /"#" cannot appear after the host/, "Zk7Qef"],
  ];

  it.each(refused)("refuses %j", (dsn, hint, secret) => {
    let caught: unknown;
    try {
      parseDsn(dsn);
    } catch (err) {
      caught = err;
    }
    expect(isDbHealthError(caught), dsn).toBe(true);
    const message = (caught as Error).message;
    expect(message).toMatch(hint);
    expect(message).not.toContain("\n");
    if (secret) {
      expect(message).not.toContain(secret);
      expect(describeDsn(dsn)).not.toContain(secret);
      expect(redactDsn(dsn)).not.toContain(secret);
      expect(dsnSecrets(dsn).some((s) => s.includes(secret))).toBe(true);
    }
  });
});
