import { afterAll, describe, expect, it } from "vitest";
import { resolveError, resolveOk, tempDir } from "./__fixtures__/helpers.js";
import { NO_TARGET } from "./targets.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const dsnFor = async (env: NodeJS.ProcessEnv): Promise<string | undefined> => (await resolveOk([], env)).targetOptions[0]?.dsn;

describe("a DSN from the postgres image's variables", () => {
  it("uses POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB over loopback TCP", async () => {
    expect(await dsnFor({ POSTGRES_USER: "app", POSTGRES_PASSWORD: "p@ss word", POSTGRES_DB: "orders" })).toBe("postgres://app:p%40ss%20word@127.0.0.1:5432/orders");
  });

  it("defaults the user to postgres and the database to the user, and honours PGPORT", async () => {
    expect(await dsnFor({ POSTGRES_PASSWORD: "pw" })).toBe("postgres://postgres:pw@127.0.0.1:5432/postgres");
    expect(await dsnFor({ POSTGRES_USER: "app", POSTGRES_HOST_AUTH_METHOD: "trust", PGPORT: "5433" })).toBe("postgres://app@127.0.0.1:5433/app");
  });

  it("reads POSTGRES_PASSWORD_FILE", async () => {
    const pw = tmp.write("pg-pw", "from-file\n");
    expect(await dsnFor({ POSTGRES_PASSWORD_FILE: pw })).toBe("postgres://postgres:from-file@127.0.0.1:5432/postgres");
  });

  it("is only a fallback: flags, DB_HEALTH_DSN and YAML targets win, but flags still apply to it", async () => {
    expect(await dsnFor({ POSTGRES_PASSWORD: "pw", DB_HEALTH_DSN: "file:x.db" })).toBe("file:x.db");
    const plan = await resolveOk(["--interval", "5s", "--name", "db"], { POSTGRES_PASSWORD: "pw" });
    expect(plan.targetOptions).toEqual([{ dsn: "postgres://postgres:pw@127.0.0.1:5432/postgres", interval: "5s", name: "db" }]);
  });

  it("reports a bad PGPORT without leaking the password", async () => {
    const message = await resolveError([], { POSTGRES_PASSWORD: "Hunter2Hunter2", PGPORT: "http" });
    expect(message).toBe('PGPORT: must be a port number from 1 to 65535, got "http"');
  });
});

describe("a DSN from the mysql and mariadb images' variables", () => {
  it("uses the application user when user and password are both set", async () => {
    expect(await dsnFor({ MYSQL_USER: "app", MYSQL_PASSWORD: "pw", MYSQL_DATABASE: "shop", MYSQL_ROOT_PASSWORD: "root" })).toBe("mysql://app:pw@127.0.0.1:3306/shop");
  });

  it("falls back to root with MYSQL_ROOT_PASSWORD, or none when an empty root password is allowed", async () => {
    expect(await dsnFor({ MYSQL_ROOT_PASSWORD: "rootpw", MYSQL_DATABASE: "shop" })).toBe("mysql://root:rootpw@127.0.0.1:3306/shop");
    expect(await dsnFor({ MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: "1", MARIADB_DATABASE: "shop" })).toBe("mysql://root@127.0.0.1:3306/shop");
  });

  it("prefers MARIADB_* over MYSQL_*, as the MariaDB image does, and reads *_FILE", async () => {
    const pw = tmp.write("maria-pw", "maria-secret\n");
    const env = { MARIADB_USER: "maria", MARIADB_PASSWORD_FILE: pw, MYSQL_USER: "my", MYSQL_PASSWORD: "x", MARIADB_DATABASE: "m", MYSQL_DATABASE: "y", MYSQL_TCP_PORT: "3307" };
    expect(await dsnFor(env)).toBe("mysql://maria:maria-secret@127.0.0.1:3307/m");
    const root = tmp.write("root-pw", "r00t\n");
    expect(await dsnFor({ MARIADB_ROOT_PASSWORD_FILE: root, MARIADB_DATABASE: "m" })).toBe("mysql://root:r00t@127.0.0.1:3306/m");
    expect(await dsnFor({ MYSQL_ROOT_PASSWORD_FILE: root, MYSQL_DATABASE: "m" })).toBe("mysql://root:r00t@127.0.0.1:3306/m");
  });

  it("says what is missing when the variables cannot make a DSN", async () => {
    expect(await resolveError([], { MYSQL_RANDOM_ROOT_PASSWORD: "yes", MYSQL_DATABASE: "shop" })).toContain("no password to log in with");
    expect(await resolveError([], { MARIADB_ROOT_PASSWORD: "pw" })).toContain("MYSQL_DATABASE (or MARIADB_DATABASE) is not set");
    expect(await resolveError([], { MARIADB_ROOT_PASSWORD: "pw", POSTGRES_PASSWORD: "pw" })).toContain("both POSTGRES_* and MYSQL_*/MARIADB_* are set");
  });
});

describe("no database anywhere", () => {
  it("is a config error with the documented text", async () => {
    expect(NO_TARGET).toBe("no database to probe: pass --dsn, set DB_HEALTH_DSN or write targets in --config");
    expect(await resolveError([], { PATH: "/usr/bin", HOME: "/root" })).toBe(NO_TARGET);
    expect(await resolveError(["--once"], { DB_HEALTH_CONFIG: tmp.write("empty.yaml", "targets: []\n") })).toBe(NO_TARGET);
  });
});
