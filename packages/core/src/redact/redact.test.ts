import { describe, expect, it } from "vitest";
import { REDACTED, createRedactor, redact, replaceSpans } from "./redact.js";

interface Case {
  name: string;
  input: string;
  /** Secrets that must be gone, raw and percent-encoded. */
  hidden: string[];
  /** What must survive: user, host, port, database, other keys. */
  visible: string[];
}

const cases: Case[] = [
  // PostgreSQL URLs
  { name: "postgres url", input: "postgres://app:s3cretPW@db.example:5432/orders", hidden: ["s3cretPW"], visible: ["postgres://app:", "@db.example:5432/orders"] },
  { name: "postgresql url", input: "postgresql://app:s3cretPW@db.example/orders", hidden: ["s3cretPW"], visible: ["app", "db.example", "/orders"] },
  {
    name: "postgres url with query",
    input: "postgres://app:s3cretPW@db:5432/orders?sslmode=require&application_name=x&options=-c%20statement_timeout%3D5s",
    hidden: ["s3cretPW"],
    visible: ["app", "db:5432/orders", "sslmode=require", "application_name=x", "options=-c%20statement_timeout%3D5s"],
  },
  { name: "@ in password (last @ wins)", input: "postgres://u:p@ssW0rd@host/db", hidden: ["p@ssW0rd", "ssW0rd"], visible: ["postgres://u:", "@host/db"] },
  { name: "two @ in password", input: "postgres://u:a@b@cW0rd@host:5432/db", hidden: ["a@b@cW0rd", "cW0rd"], visible: ["@host:5432/db"] },
  { name: "/ in password", input: "postgres://u:pa/ssW0rd@host/db", hidden: ["pa/ssW0rd", "ssW0rd"], visible: ["postgres://u:", "@host/db"] },
  { name: "percent-encoded password", input: "postgres://u:p%40ss%2Fw0rd@host:5432/db", hidden: ["p@ss/w0rd", "p%40ss%2Fw0rd"], visible: ["postgres://u:", "@host:5432/db"] },
  { name: ": in password", input: "postgres://u:pa:ss:w0rd@host/db", hidden: ["pa:ss:w0rd", "ss:w0rd"], visible: ["postgres://u:", "@host/db"] },
  { name: "? and # in password", input: "postgres://u:pa?ss#w0rd@host/db", hidden: ["pa?ss#w0rd", "ss#w0rd"], visible: ["postgres://u:", "@host/db"] },
  { name: "raw % in password", input: "postgres://u:100%pureW0rd@host/db", hidden: ["100%pureW0rd"], visible: ["postgres://u:", "@host/db"] },
  { name: "; in password", input: "postgres://u:p;w0rd;xyz@host/db", hidden: ["p;w0rd;xyz", "w0rd;xyz"], visible: ["postgres://u:", "@host/db"] },
  { name: "spaces in password", input: "postgres://u:se cret w0rd@host/db", hidden: ["se cret w0rd", "cret w0rd"], visible: ["postgres://u:", "@host/db"] },
  { name: "unicode password", input: "postgres://u:pässwörd🔑@host/db", hidden: ["pässwörd🔑"], visible: ["postgres://u:", "@host/db"] },
  { name: "IPv6 host", input: "postgres://u:s3cr3tV6@[::1]:5433/db", hidden: ["s3cr3tV6"], visible: ["postgres://u:", "@[::1]:5433/db"] },
  { name: "socket host", input: "postgres://u:pw1234x@%2Fvar%2Frun%2Fpostgresql/db", hidden: ["pw1234x"], visible: ["%2Fvar%2Frun%2Fpostgresql/db"] },
  { name: "password query parameter", input: "postgres:///db?host=/var/run/postgresql&password=qwerty99", hidden: ["qwerty99"], visible: ["host=/var/run/postgresql", "password=***"] },
  { name: "upper-case PASSWORD parameter", input: "postgres://h/db?sslmode=require&PASSWORD=qwerty99&application_name=x", hidden: ["qwerty99"], visible: ["sslmode=require", "&application_name=x"] },
  { name: "sslpassword parameter", input: "postgres://u@h/db?sslpassword=keyPass99&sslcert=/x.crt", hidden: ["keyPass99"], visible: ["postgres://u@h/db", "sslcert=/x.crt"] },
  // MySQL / MariaDB
  { name: "go mysql tcp", input: "mysql://user:pass99Q@tcp(host:3306)/db", hidden: ["pass99Q"], visible: ["mysql://user:", "@tcp(host:3306)/db"] },
  { name: "go mysql tcp IPv6", input: "mysql://user:pass99Q@tcp([::1]:3306)/db?tls=true", hidden: ["pass99Q"], visible: ["@tcp([::1]:3306)/db?tls=true"] },
  { name: "go mysql unix, odd password", input: "mysql://user:p@ss)(99@unix(/run/mysqld/mysqld.sock)/db", hidden: ["p@ss)(99", "ss)(99"], visible: ["@unix(/run/mysqld/mysqld.sock)/db"] },
  { name: "plain mysql url", input: "mysql://user:pass99Q@host:3306/db", hidden: ["pass99Q"], visible: ["mysql://user:", "@host:3306/db"] },
  { name: "mariadb url", input: "mariadb://user:pass99Q@host:3306/db", hidden: ["pass99Q"], visible: ["mariadb://user:", "@host:3306/db"] },
  { name: "go mysql without scheme", input: "dial user:pass99Q@tcp(host:3306)/db failed", hidden: ["pass99Q"], visible: ["user:", "@tcp(host:3306)/db failed"] },
  // Userinfo without a scheme (a URL typed without "http://", a flag value echoed in an error)
  { name: "bare userinfo", input: 'status: "admin:SeKr1Tpw@127.0.0.1:9091/readyz" is not an http(s) URL', hidden: ["SeKr1Tpw"], visible: ['"admin:', "@127.0.0.1:9091/readyz\" is not"] },
  { name: "bare userinfo, @ in password", input: "invalid duration \"app:p@ssW0rd@db.example\"", hidden: ["p@ssW0rd", "ssW0rd"], visible: ['"app:', '@db.example"'] },
  { name: "bare userinfo at line start, IPv6 host", input: "app:s3cr3tV6x@[::1]:5432/db", hidden: ["s3cr3tV6x"], visible: ["app:", "@[::1]:5432/db"] },
  { name: "bare userinfo with nothing after the @", input: 'status: "admin:Sup3rSecretPw@" is not an http(s) URL', hidden: ["Sup3rSecretPw"], visible: ['"admin:', '@" is not'] },
  { name: "bare userinfo, a bare IPv6 or a port after the @", input: "app:s3cretPwA@::1 and app:s3cretPwB@:5432", hidden: ["s3cretPwA", "s3cretPwB"], visible: ["@::1 and app:", "@:5432"] },
  { name: "bare userinfo quoted, password with @ and a space", input: 'invalid duration "app:p@ss w0rdX@db" and \'u:q@r s9Y@h\'', hidden: ["p@ss w0rdX", "ss w0rdX", "q@r s9Y", "r s9Y"], visible: ['"app:', '@db"', "'u:", "@h'"] },
  { name: "bare userinfo, quoted password", input: 'app:"secret pw9"@db', hidden: ["secret pw9"], visible: ["app:", "@db"] },
  // HTTP Authorization headers (a server echoing the request)
  { name: "Authorization header", input: "GET /readyz HTTP/1.1\r\nauthorization: Basic YWRtaW46U2VLcjFUcHc=\r\nhost: x", hidden: ["YWRtaW46U2VLcjFUcHc="], visible: ["GET /readyz", "host: x"] },
  { name: "Proxy-Authorization, Bearer", input: "Proxy-Authorization: Bearer eyJhbGciOiJ9.x.y\nAccept: */*", hidden: ["eyJhbGciOiJ9.x.y"], visible: ["Accept: */*"] },
  { name: "Authorization in JSON", input: '{"authorization":"Basic dXNlcjpwdzk5","accept":"*/*"}', hidden: ["dXNlcjpwdzk5"], visible: ['"accept":"*/*"'] },
  // SQL Server
  { name: "sqlserver url", input: "sqlserver://sa:Str0ng!Pass@host:1433/db", hidden: ["Str0ng!Pass"], visible: ["sqlserver://sa:", "@host:1433/db"] },
  { name: "sqlserver ?database=", input: "sqlserver://sa:Str0ng!Pass@host:1433?database=db", hidden: ["Str0ng!Pass"], visible: ["@host:1433?database=db"] },
  { name: "sqlserver instance", input: "sqlserver://sa:Str0ng!Pass@host\\SQLEXPRESS/db", hidden: ["Str0ng!Pass"], visible: ["@host\\SQLEXPRESS/db"] },
  { name: "mssql url, encoded password", input: "mssql://sa:p%20w%3Bd99@host/db", hidden: ["p w;d99", "p%20w%3Bd99"], visible: ["mssql://sa:", "@host/db"] },
  { name: "jdbc sqlserver", input: "jdbc:sqlserver://host:1433;databaseName=db;user=sa;password=Str0ng!Pass;", hidden: ["Str0ng!Pass"], visible: ["host:1433", "databaseName=db", "user=sa", "password=***;"] },
  {
    name: "ADO with {…} value holding ; and space",
    input: "Server=tcp:db.example,1433;Database=app;User Id=sa;Password={p;ss w0rd};Encrypt=true;",
    hidden: ["p;ss w0rd", "ss w0rd"],
    visible: ["Server=tcp:db.example,1433", "Database=app", "User Id=sa", "Encrypt=true;"],
  },
  { name: "ADO Pwd=", input: "Data Source=host\\inst;Initial Catalog=app;User ID=sa;Pwd=Xyz123q", hidden: ["Xyz123q"], visible: ["Data Source=host\\inst", "Initial Catalog=app", "User ID=sa", "Pwd=***"] },
  { name: "ADO \"…\" value with doubled quote", input: 'Server=db;Password="qu;o""tedPw";User Id=sa', hidden: ["qu;o", 'tedPw'], visible: ["Server=db", "User Id=sa"] },
  { name: "ADO unquoted value with spaces", input: "Password=se cret w0rd;User Id=sa;Server=db", hidden: ["se cret w0rd", "cret w0rd"], visible: ["Password=***;", "User Id=sa", "Server=db"] },
  { name: "ODBC }} escape", input: "Server=db;PWD={a}}b;cW0rd};Database=app", hidden: ["a}}b;cW0rd", "b;cW0rd"], visible: ["Server=db", "Database=app"] },
  // libpq key=value
  { name: "libpq quoted value", input: "host=db password='se cret w0rd' user=app dbname=orders", hidden: ["se cret w0rd", "cret w0rd"], visible: ["host=db", "user=app", "dbname=orders"] },
  { name: "libpq \\' escape", input: "password='it\\'s s3cret' host=db user=app", hidden: ["s3cret", "it\\'s"], visible: ["host=db", "user=app"] },
  { name: "libpq quote inside a quoted value (shell ate the escape)", input: "host=db password='it's s3cret W0rd' user=app", hidden: ["s3cret", "W0rd"], visible: ["host=db", "user=app"] },
  { name: "libpq doubled quote", input: "host=db password='it''s s3cret W0rd' user=app", hidden: ["s3cret", "W0rd"], visible: ["host=db", "user=app"] },
  { name: "libpq unquoted value", input: "host=db password=plainPw99 port=5432 user=app", hidden: ["plainPw99"], visible: ["host=db", "port=5432", "user=app"] },
  { name: "pass= and passwd=", input: "user=app pass=p4ssOne passwd=p4ssTwo host=db", hidden: ["p4ssOne", "p4ssTwo"], visible: ["user=app", "host=db"] },
  // JSON-ish and objects
  { name: "JSON", input: '{"host":"db","password":"js0n\\"Pw!","user":"app"}', hidden: ["js0n", "Pw!"], visible: ['"host":"db"', '"user":"app"'] },
  { name: "JSON with spaces", input: '{ "user": "app", "Password" : "js0n Pw" }', hidden: ["js0n Pw"], visible: ['"user": "app"'] },
  { name: "JSON camelCase key", input: '{"dbPassword":"camelPw9","dbHost":"db"}', hidden: ["camelPw9"], visible: ['"dbHost":"db"'] },
  { name: "util.inspect object", input: "{ user: 'app', password: 'insp3ctPw', host: 'db' }", hidden: ["insp3ctPw"], visible: ["user: 'app'", "host: 'db'"] },
  { name: "YAML", input: "dsn: postgres://app@db/orders\npassword: yaml pw 9\nuser: app", hidden: ["yaml pw 9"], visible: ["postgres://app@db/orders", "user: app"] },
  // Environment
  { name: "PGPASSWORD", input: "PGPASSWORD=envPw99 psql -h db -U app", hidden: ["envPw99"], visible: ["psql -h db -U app"] },
  { name: "MYSQL_PWD", input: "MYSQL_PWD=envPw99 mysql -h db -u app", hidden: ["envPw99"], visible: ["mysql -h db -u app"] },
  { name: "*_PASSWORD", input: "-e MSSQL_SA_PASSWORD=envPw99 -e ACCEPT_EULA=Y", hidden: ["envPw99"], visible: ["MSSQL_SA_PASSWORD=***", "ACCEPT_EULA=Y"] },
  { name: "quoted env value", input: 'export DB_PASSWORD="quoted env pw"', hidden: ["quoted env pw"], visible: ["export DB_PASSWORD="] },
  { name: "CLI flag", input: "healthcheck --password=flagPw99 --user=app", hidden: ["flagPw99"], visible: ["--user=app"] },
  // Tokens and HTTP
  { name: "https basic auth", input: "GET https://admin:hunter2x@api.example.com/v1 failed", hidden: ["hunter2x"], visible: ["https://admin:", "@api.example.com/v1 failed"] },
  {
    name: "token, api_key, apikey, secret parameters",
    input: "http://h/x?token=tok3nValue&api_key=k3yValue&apikey=k3y2Value&client_secret=s3cretVal&page=2",
    hidden: ["tok3nValue", "k3yValue", "k3y2Value", "s3cretVal"],
    visible: ["http://h/x?", "&page=2"],
  },
  // Inside client-library error messages
  { name: "pg ECONNREFUSED", input: "connect ECONNREFUSED 127.0.0.1:5432 for postgres://u:s3cr3tE@h/db", hidden: ["s3cr3tE"], visible: ["ECONNREFUSED 127.0.0.1:5432", "postgres://u:", "@h/db"] },
  { name: "tedious login failed", input: "Login failed for user 'sa'. Password=hunter2;", hidden: ["hunter2"], visible: ["Login failed for user 'sa'.", "Password=***;"] },
  { name: "quoted DSN in message", input: 'failed to connect to "mysql://root:r00tpw9@db:3306/shop": timeout', hidden: ["r00tpw9"], visible: ['"mysql://root:', '@db:3306/shop": timeout'] },
  { name: "two DSNs, no spaces", input: "primary=postgres://a:pwA11x@h1/db,replica=postgres://b:pwB22x@h2/db", hidden: ["pwA11x", "pwB22x"], visible: ["@h1/db,replica=postgres://b:", "@h2/db"] },
  { name: "password with space then an e-mail", input: "postgres://u:se cret@host/db failed for bob@example.com", hidden: ["se cret"], visible: ["@host/db failed for bob@example.com"] },
];

function encodings(secret: string): string[] {
  const encoded = encodeURIComponent(secret);
  return encoded === secret ? [secret] : [secret, encoded];
}

describe("redact: credential forms", () => {
  it("has at least 40 forms", () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases)("$name", ({ input, hidden, visible }) => {
    const out = redact(input);
    for (const secret of hidden) for (const form of encodings(secret)) expect(out).not.toContain(form);
    for (const part of visible) expect(out).toContain(part);
    expect(out).toContain(REDACTED);
  });

  it.each(cases)("is idempotent: $name", ({ input }) => {
    const once = redact(input);
    expect(redact(once)).toBe(once);
  });
});

describe("redact: exact output", () => {
  it.each([
    ["postgres://u:p@ss@host/db", "postgres://u:***@host/db"],
    ["postgres://u:pa/ss@host/db", "postgres://u:***@host/db"],
    ["mysql://user:pass@tcp(host:3306)/db", "mysql://user:***@tcp(host:3306)/db"],
    ["postgres://h/db?password=x1&user=app", "postgres://h/db?password=***&user=app"],
    ["Server=db;Password=hunter2;User Id=sa", "Server=db;Password=***;User Id=sa"],
    ["Server=db;Password={p;ss};User Id=sa", "Server=db;Password={***};User Id=sa"],
    ["host=db password='se cret' user=x", "host=db password='***' user=x"],
    ['{"password":"x y"}', '{"password":"***"}'],
    ["PGPASSWORD=abc psql", "PGPASSWORD=*** psql"],
  ])("%s", (input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  it.each([
    "postgres://app@db.example:5432/orders",
    "postgres://db.example:5432/orders?sslmode=require",
    "postgres://[::1]:5432/db and mail admin@example.com",
    "mysql://user@unix(/run/mysqld/mysqld.sock)/db",
    "Access denied for user 'root'@'localhost' (using password: YES)",
    'password authentication failed for user "app"',
    "POSTGRES_PASSWORD_FILE=/run/secrets/db",
    "file:db.sqlite?cache=shared&mode=rwc",
    "compass=north bypass=1",
    "",
  ])("leaves %j unchanged", (input) => {
    expect(redact(input)).toBe(input);
  });
});

describe("replaceSpans", () => {
  it("hides the union of overlapping and touching spans as one ***", () => {
    expect(replaceSpans("abcdefghij", [[0, 5], [3, 8]])).toBe("***ij");
    expect(replaceSpans("abcdefghij", [[3, 8], [0, 5], [8, 9]])).toBe("***j");
    expect(replaceSpans("abcdefghij", [[1, 2], [4, 6]])).toBe("a***cd***ghij");
  });
});

describe("createRedactor", () => {
  it("hides a known password that is also part of a key or a scheme, and the value next to it", () => {
    // matched separately from the rules: a literal hidden first would break the key or URL
    expect(createRedactor(["password"])("host=db sslpassword=qq user=app")).toBe("host=db ssl***=*** user=app");
    expect(createRedactor(["secret"])("client_secret=abcdef")).toBe("client_***=***");
    expect(createRedactor(["postgres"])("postgres://replicator:r3pl1ca@primary/db")).toBe("***://replicator:***@primary/db");
    expect(createRedactor(["tcp(db"])("app:pw1234@tcp(db:3306)/shop")).not.toMatch(/pw1234/);
  });

  it("keeps host and database of a URL whose password looks like a key=value or key: pair", () => {
    expect(redact("postgres://app:token:xyz@db:5432/shop")).toBe("postgres://app:***@db:5432/shop");
    expect(redact("postgres://app:pass=1@db:5432/shop")).toBe("postgres://app:***@db:5432/shop");
  });

  it("hides the whole of a known password where a key=value rule alone would stop at its ';'", () => {
    // a server echoing an ADO string: Password= ends at the first ';' of an unquoted value
    const secret = "Tds;Pa$s:w0rd@x}y";
    const clean = createRedactor([secret]);
    expect(clean(`Login failed; Password=${secret}; Database=master`)).toBe("Login failed; Password=***; Database=master");
    expect(clean(`at sqlserver://sa:${encodeURIComponent(secret)}@db/master`)).toBe("at sqlserver://sa:***@db/master");
  });

  it("removes literal secrets and their percent-encoded forms", () => {
    const clean = createRedactor(["p@ss/w ord", "tok3n"]);
    expect(clean("got p@ss/w ord and p%40ss%2Fw%20ord and p%40ss%2fw%20ord, tok3n")).toBe("got *** and *** and ***, ***");
  });

  it("removes a literal secret in another case: PostgreSQL lower-cases an identifier it echoes", () => {
    const r = createRedactor(["S3cretPw9x"]);
    expect(r('column "s3cretpw9x" does not exist (SQLSTATE 42703)')).toBe('column "***" does not exist (SQLSTATE 42703)');
    expect(r("near 'S3CRETPW9X'")).toBe("near '***'");
  });

  it("also applies the generic rules", () => {
    expect(createRedactor(["zzz"])("postgres://u:other@h/db zzz")).toBe("postgres://u:***@h/db ***");
  });

  it("ignores empty and short secrets", () => {
    const clean = createRedactor(["", "a", "ab"]);
    expect(clean("a cab ab")).toBe("a cab ab");
  });

  it("redact() accepts the same secrets", () => {
    expect(redact("error near 'hunter2'", ["hunter2"])).toBe("error near '***'");
  });

  it("copes with secrets that cannot be percent-encoded", () => {
    const lone = "ab\uD800c";
    expect(redact(`x ${lone} y`, [lone])).toBe("x *** y");
  });
});

describe("redact never throws", () => {
  // Deterministic pseudo-random junk, rich in the characters the rules look at.
  function* junk(count: number): Generator<string> {
    let seed = 0x2f6b1c3d;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x100000000;
    };
    const alphabet = [..."ab:/@?#&;=%{}[]()\"'\\ \n\t,.*-_", "password", "pwd", "://", "postgres", "tcp(", "Server=", "ä", "🔑", "%2F", "%E0"];
    for (let n = 0; n < count; n++) {
      let s = "";
      const length = Math.floor(next() * 120);
      for (let i = 0; i < length; i++) s += alphabet[Math.floor(next() * alphabet.length)] ?? "";
      yield s;
    }
  }

  it("on random junk, and stays idempotent", () => {
    for (const input of junk(20000)) {
      const once = redact(input, ["password"]);
      expect(typeof once).toBe("string");
      expect(redact(once, ["password"])).toBe(once);
    }
  });

  it("on values that are not strings at runtime", () => {
    expect(redact(undefined as unknown as string)).toBe("undefined");
    const hostile = { toString: () => { throw new Error("boom"); } };
    expect(redact(hostile as unknown as string)).toBe(REDACTED);
    expect(redact("x", [undefined as unknown as string, 42 as unknown as string])).toBe("x");
  });
});
