import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDriver, createMetrics } from "@alfred/db-health-core";
import { fakeTdsServer, type FakeTdsServer } from "./__fixtures__/fake-tds.js";
import { mssqlDriver } from "./definition.js";

// The refused-port redaction test in mssql-options.test.ts fails in the TDS pre-check, before
// tedious runs. Here tedious itself produces the error: a fake server takes the LOGIN7 (so the
// password really crossed the wire) and fails the login with a message that quotes it back in
// the ways a client library or server might: bare, in a URL, and as an unquoted ADO pair.
const SECRET = "Tds;Pa$s:w0rd@x}y";
const enc = encodeURIComponent;
const forms: Record<string, (port: number) => string> = {
  "URL userinfo": (port) => `sqlserver://sa:${enc(SECRET)}@127.0.0.1:${port}/master?encrypt=false`,
  "mssql:// userinfo": (port) => `mssql://sa:${enc(SECRET)}@127.0.0.1:${port}?database=master&encrypt=false`,
  "URL ?password=": (port) => `sqlserver://sa@127.0.0.1:${port}/master?password=${enc(SECRET)}&encrypt=false`,
  "ADO Password={…}": (port) => `Server=tcp:127.0.0.1,${port};Database=master;User Id=sa;Password={${SECRET.replace(/}/g, "}}")}};Encrypt=false;`,
  'ADO Pwd="…"': (port) => `Data Source=127.0.0.1,${port};Initial Catalog=master;UID=sa;Pwd="${SECRET}";Encrypt=false`,
};
// Pieces of the password on both sides of its ";", ":" and "@": a rule that stops at one of
// them would leave the rest visible.
const PIECES = [SECRET, enc(SECRET), "Pa$s", "w0rd", "x}y"];

let tds: FakeTdsServer;
beforeAll(async () => {
  tds = await fakeTdsServer((login) => ({
    number: 18456,
    message: `Login failed for user '${login.user}'. Password '${login.password}' was given as sqlserver://${login.user}:${enc(login.password)}@db/master and as Password=${login.password}; Database=master`,
  }));
});
afterAll(() => tds.close());

describe("mssql redaction inside tedious's own errors", () => {
  for (const [name, form] of Object.entries(forms)) {
    it(`${name}: the password tedious sent and the server echoed is nowhere in results, errors, causes or metrics`, async () => {
      const dsn = form(tds.port);
      const d = createDriver({ dsn, maxRetries: 0, connectTimeout: "3s" }, { definition: mssqlDriver });
      const sent = tds.logins.length;
      const r = await d.probe();
      // The error came from tedious after the login (not from the pre-check), with the password
      // this DSN form gave: the echo below really contained it.
      expect(tds.logins.slice(sent)).toEqual([{ user: "sa", password: SECRET, appName: expect.any(String), database: "master" }]);
      expect(r.status).toBe("down");
      expect(r.reason).toMatch(/^connect failed: Login failed for user 'sa'\. Password '\*\*\*' was given as .* \(ELOGIN\)$/);

      const err = await d.connect().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(/Login failed for user 'sa'/);
      const printed = inspect(err, { depth: 10 });
      // The printed cause chain holds mssql's ConnectionError and, under it, the error tedious's
      // login handler raised from the server's ERROR token.
      expect(printed).toMatch(/\[cause\]: Error \[ConnectionError\]: Login failed[\s\S]*code: 'ELOGIN'[\s\S]*originalError: Error: Login failed[^\n]*\n\s+at Login7TokenHandler\.onErrorMessage /);

      const metrics = createMetrics();
      metrics.observe(r);
      const exposition = await metrics.render();
      expect(exposition).toMatch(/db_up\{db_name="mssql",db_role="[a-z]+",target="[^"]+"\} 0/);

      const outputs = {
        result: JSON.stringify(r),
        "inspected result": inspect(r, { depth: 10 }),
        message: String(err?.message),
        stack: String(err?.stack),
        "inspected error": printed,
        exposition,
        "driver metrics": JSON.stringify(d.metrics()),
      };
      for (const [what, text] of Object.entries(outputs)) {
        for (const piece of PIECES) expect(text, `${what} contains ${piece}`).not.toContain(piece);
      }
      await d.close();
    });
  }
});
