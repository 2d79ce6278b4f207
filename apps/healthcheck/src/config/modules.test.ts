import { afterAll, describe, expect, it } from "vitest";
import { isDbHealthError } from "@alfred/db-health-core";
import { resolveCli } from "./resolve.js";
import { resolveError, resolveOk, tempDir } from "./__fixtures__/helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const PASSWORD = "m0dule-Pw:@/?#";
tmp.write("pg.pw", `${PASSWORD}\n`);

const GOOD = `
defaults:
  readTimeout: 1s
modules:
  pg:
    engine: postgres
    user: db_health
    passwordFile: pg.pw
    database: app
    params: { sslmode: disable, application_name: discovered }
    allow:
      cidrs: [10.0.0.0/8, "fd00::/8", 127.0.0.1]
      hosts: [Orders-DB.prod]
      ports: [5432, "6432-6439"]
    settings:
      connectTimeout: 2s
  maria:
    engine: mariadb
    user: root
    allow: { cidrs: [127.0.0.1], databases: ["*"] }
`;

describe("modules: in the YAML file", () => {
  it("reads modules: the password from its file, allow normalised, settings over defaults, flags over settings; no targets needed by a daemon", async () => {
    const plan = await resolveOk(["--config", tmp.write("good.yaml", GOOD), "--max-retries", "1"]);
    expect(plan.targets).toEqual([]);
    const [pg, maria] = plan.modules;
    expect(pg).toMatchObject({
      name: "pg",
      engine: "postgres",
      user: "db_health",
      password: PASSWORD,
      database: "app",
      params: { sslmode: "disable", application_name: "discovered" },
      allow: { hosts: ["orders-db.prod"], ports: [[5432, 5432], [6432, 6439]], databases: ["app"] },
      settings: { connectTimeout: "2s", readTimeout: "1s", maxRetries: 1 },
    });
    expect(pg!.allow.cidrs.map((c) => c.text)).toEqual(["10.0.0.0/8", "fd00::/8", "127.0.0.1/32"]);
    // engine default port, any database
    expect(maria).toMatchObject({ engine: "mariadb", allow: { ports: [[3306, 3306]], databases: ["*"] } });
  });

  it("lists every problem with its line, never a password", async () => {
    const file = tmp.write(
      "bad.yaml",
      `modules:
  pg:
    engine: postgres
    user: app
    password: ${PASSWORD}
    dsn: postgres://app:${PASSWORD}@db/x
    params: { host: attacker, PGPASSWORD: x, sslmode: disable }
    allow:
      cidrs: [10.1.2.3/8]
      hosts: ["*.svc", 10.0.0.1]
      ports: [0]
    settings: { interval: 5s, readTimeout: 5x }
  open:
    engine: mysql
    allow: {}
  lite:
    engine: sqlite
    allow: { cidrs: [127.0.0.1] }
`,
    );
    const lines = (await resolveError(["--config", file])).split("\n");
    const at = (path: string, line: number): string => `${file}: modules.${path} (line ${line}): `;
    expect(lines).toEqual([
      `${at("pg.password", 5)}a module's password is read from passwordFile (a mounted secret), never written in the file`,
      `${at("pg.dsn", 6)}a module builds each target's DSN from ?target=HOST:PORT[/DB]: give engine, user, passwordFile, database and params instead`,
      `${at("pg.params.host", 7)}the address comes from ?target=, the user and password from user and passwordFile: a parameter may not name them`,
      `${at("pg.params.PGPASSWORD", 7)}the address comes from ?target=, the user and password from user and passwordFile: a parameter may not name them`,
      `${at("pg.allow.cidrs[0]", 9)}"10.1.2.3/8" has bits set after the first 8: did you mean 10.0.0.0/8?`,
      `${at("pg.allow.hosts[0]", 10)}"*.svc" must be a DNS name, written exactly as targets name it (no wildcards)`,
      `${at("pg.allow.hosts[1]", 10)}"10.0.0.1" is an address: list addresses under cidrs (one address is a network of one)`,
      `${at("pg.allow.ports[0]", 11)}"0" must be a port (5432) or a range ("6432-6439")`,
      `${at("pg.settings.interval", 12)}a discovered target is probed when Prometheus scrapes it: it has no interval`,
      `${at("open.allow", 15)}lists no cidrs and no hosts: a module that may reach nothing is refused; one that may reach anything would send its credentials wherever a scraper says`,
      `${at("lite.engine", 17)}SQLite has no address: a module reaches database servers over the network`,
    ]);
    expect(lines.join("\n")).not.toContain(PASSWORD);
  });

  it("checks a module as a target: core's schema and the engine's driver, on the module's lines", async () => {
    const file = tmp.write(
      "driver.yaml",
      `modules:
  pg:
    engine: postgres
    params: { sslmode: bogus }
    allow: { cidrs: [10.0.0.0/8] }
    settings: { readTimeout: 5x }
  none:
    engine: nosuch
    allow: { cidrs: [10.0.0.0/8], ports: [1] }
`,
    );
    let message = "";
    try {
      await resolveCli(["--config", file], {}, "1", { writeOut: () => undefined });
    } catch (err) {
      if (isDbHealthError(err)) message = err.message;
    }
    const lines = message.split("\n");
    expect(lines).toContain(`${file}: modules.pg.settings.readTimeout (line 6): invalid duration "5x": use a number with a unit, e.g. 500ms, 2s, 1m`);
    expect(lines.some((l) => l.startsWith(`${file}: modules.pg.engine (line 3): PostgreSQL DSN: sslmode=bogus is not one of`))).toBe(true);
    expect(lines.some((l) => l.startsWith(`${file}: modules.none.engine (line 8): no driver for "nosuch://10.0.0.0:1"`))).toBe(true);
  });

  it("--once and the wrapper still need a target of their own", async () => {
    const file = tmp.write("only.yaml", GOOD);
    const hint = "no database to probe: pass --dsn, set DB_HEALTH_DSN or write targets in --config (modules: are probed only through /probe?module=…&target=… of a daemon that wraps no command)";
    expect(await resolveError(["--once", "--config", file])).toBe(hint);
    expect(await resolveError(["--config", file, "--", "true"])).toBe(hint);
  });
});
