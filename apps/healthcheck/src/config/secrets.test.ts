import { afterAll, describe, expect, it } from "vitest";
import { parseDsn } from "@alfred/db-health-core";
import { resolveError, resolveOk, tempDir } from "./__fixtures__/helpers.js";
import { Problems } from "./problems.js";
import { envSecret, splicePassword } from "./secrets.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe("*_FILE secrets", () => {
  it("reads DB_HEALTH_DSN_FILE, dropping one trailing newline", async () => {
    const file = tmp.write("dsn", "postgres://app:s3cret@db:5432/app\n");
    expect((await resolveOk([], { DB_HEALTH_DSN_FILE: file })).targetOptions).toEqual([{ dsn: "postgres://app:s3cret@db:5432/app" }]);
  });

  it("keeps other whitespace, which may belong to a password", () => {
    const problems = new Problems();
    const file = tmp.write("pw-space", " pw \r\n");
    expect(envSecret({ POSTGRES_PASSWORD_FILE: file }, "POSTGRES_PASSWORD", problems)).toEqual({ value: " pw ", where: "POSTGRES_PASSWORD_FILE" });
    expect(problems.lines).toEqual([]);
  });

  it("rejects X together with X_FILE, and names an unreadable file without a 'no database' error", async () => {
    const file = tmp.write("dsn2", ":memory:");
    expect(await resolveError([], { DB_HEALTH_DSN: ":memory:", DB_HEALTH_DSN_FILE: file })).toBe("DB_HEALTH_DSN_FILE: DB_HEALTH_DSN is set too; set only one of them");
    expect(await resolveError([], { DB_HEALTH_DSN_FILE: `${tmp.dir}/nope` })).toBe(`DB_HEALTH_DSN_FILE: cannot read "${tmp.dir}/nope": ENOENT`);
  });

  it("reads dsnFile and passwordFile in YAML, relative to the file", async () => {
    tmp.write("orders.dsn", "postgres://app@orders:5432/orders\n");
    tmp.write("shop.pw", "p@ss:w/rd?#\n");
    const file = tmp.write(
      "files.yaml",
      `targets:
  - name: orders
    dsnFile: orders.dsn
    passwordFile: shop.pw
  - name: shop
    dsn: mysql://app@tcp(shop:3306)/shop
    passwordFile: ./shop.pw
  - name: mssql
    dsn: "Server=sql,1433;Database=app;User Id=sa"
    passwordFile: shop.pw
`,
    );
    const { targetOptions: targets } = await resolveOk(["--config", file]);
    expect(targets.map((t) => t.dsn)).toEqual([
      "postgres://app:p%40ss%3Aw%2Frd%3F%23@orders:5432/orders",
      "mysql://app:p%40ss%3Aw%2Frd%3F%23@tcp(shop:3306)/shop",
      'Server=sql,1433;Database=app;User Id=sa;Password="p@ss:w/rd?#";',
    ]);
    for (const t of targets) expect(parseDsn(t.dsn).password).toBe("p@ss:w/rd?#");
  });

  it("reports unusable secret files against their YAML key and line", async () => {
    tmp.write("pw", "x");
    tmp.write("other.dsn", "file:c.db");
    const file = tmp.write(
      "bad-files.yaml",
      `targets:
  - dsnFile: missing.dsn
  - dsn: postgres://app:inl1ne@db/app
    passwordFile: pw
  - dsn: file:app.db
    passwordFile: pw
  - dsn: file:b.db
    dsnFile: other.dsn
`,
    );
    const lines = (await resolveError(["--config", file])).split("\n");
    expect(lines).toEqual([
      `${file}: targets[3].dsnFile (line 8): dsn is set too; give the DSN inline or in a file, not both`,
      `${file}: targets[0].dsnFile (line 2): cannot read "${tmp.dir}/missing.dsn": ENOENT`,
      `${file}: targets[1].passwordFile (line 4): the DSN has a password already; remove it or drop passwordFile`,
      `${file}: targets[2].passwordFile (line 6): a file DSN takes no password`,
    ]);
  });
});

describe("splicePassword", () => {
  it("puts the password after the user, as written (even percent-encoded)", () => {
    expect(splicePassword("postgres://my%40user@db/app", "pw(1)")).toEqual({ dsn: "postgres://my%40user:pw%281%29@db/app" });
    expect(splicePassword("postgres://db:5432/app", "pw")).toEqual({ dsn: "postgres://:pw@db:5432/app" });
  });

  it("quotes ADO values that hold quotes or semicolons", () => {
    const r = splicePassword("Server=db;User Id=sa;", 'a;"b');
    expect(r).toEqual({ dsn: 'Server=db;User Id=sa;Password="a;""b";' });
    expect(parseDsn((r as { dsn: string }).dsn).password).toBe('a;"b');
  });

  it("never puts the password in its problem", () => {
    const r = splicePassword("not a dsn ://", "Secret123");
    expect(JSON.stringify(r)).not.toContain("Secret123");
  });
});
