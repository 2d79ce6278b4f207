import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI } from "./__fixtures__/cli-path.js";

// DSNs a careless user types and an attacker tries, through every channel the CLI reads a DSN
// from. None may become a SQLite file (created in the working directory and reported UP, as
// `--dsn 127.0.0.1:5432` was), none may run, and no piece of a password may be printed.
const root = mkdtempSync(join(tmpdir(), "dbh-dsn-input-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Case {
  dsn: string;
  /** What the one problem line says. */
  says: RegExp;
  /** Pieces of a password that must appear nowhere. */
  secrets?: string[];
}

const CASES: Case[] = [
  { dsn: "127.0.0.1:5432", says: /looks like host:port but has no scheme/ },
  { dsn: ":", says: /a plain path cannot contain ":"/ },
  { dsn: ";;;==;;", says: /a plain path cannot contain ";"/ },
  { dsn: "localhost", says: /has no scheme and is not clearly a file path/ },
  { dsn: "postgres//u@h/db", says: /the scheme is mistyped: did you mean postgres:\/\//, secrets: [] },
  { dsn: '"postgres://u@127.0.0.1/test"', says: /remove the quotes around the DSN/ },
  { dsn: "app:p w SECRETa1@tcp(127.0.0.1:3306)/shop", says: /Go-style MySQL DSNs need the scheme/, secrets: ["SECRETa1", "p w"] },
  { dsn: "adv_my:SECRETb2 x@tcp(127.0.0.1:3306)/shop", says: /Go-style MySQL DSNs need the scheme/, secrets: ["SECRETb2"] },
  { dsn: "host=h password='it's SECRETc3'", says: /key=value strings are only read in SQL Server's ADO form/, secrets: ["SECRETc3", "s SECRET"] },
  { dsn: "host=h password=a b SECRETd4", says: /key=value strings are only read in SQL Server's ADO form/, secrets: ["SECRETd4", "b SECRET"] },
  { dsn: "postgres://u:p%zzSECRETe5@127.0.0.1/test", says: /the password has a "%" that is not followed by two hex digits/, secrets: ["SECRETe5"] },
  { dsn: "file:%zz.db", says: /the file path has a "%"/ },
  { dsn: "postgres://u@h1,h2/db", says: /several hosts \(h1,h2\) are not supported/ },
  { dsn: "postgres://postgres@127.0.0.1/te\u0001st", says: /control character \(U\+0001/ },
  { dsn: "postgres://postgres@127.0.0.1/test?sslmode=disable&sslmode=require", says: /parameter sslmode is given twice/ },
  { dsn: "mysql://root@127.0.0.1/test?charset=klingon", says: /charset=klingon is not a character set mysql2 knows/ },
  { dsn: "file:x.db?password=SECRETf6", says: /a password parameter is not supported/, secrets: ["SECRETf6"] },
  { dsn: "postgres://u@127.0.0.1/test?password=SECRETg7&x", says: /a query part has no "="/, secrets: ["SECRETg7"] },
];

function run(args: string[], env: Record<string, string> = {}): { code: number | null; out: string; cwd: string } {
  const cwd = mkdtempSync(join(root, "cwd-"));
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: "utf8", timeout: 30_000, env: { PATH: process.env["PATH"] ?? "", ...env } });
  return { code: r.status, out: `${r.stdout}${r.stderr}`, cwd };
}

function expectRefused(c: Case, r: { code: number | null; out: string; cwd: string }, via: string): void {
  expect(r.code, `${via}: ${r.out}`).toBe(3);
  expect(r.out, via).toMatch(c.says);
  expect(r.out, via).not.toMatch(/\bUP\b|TARGET\s+ENGINE|serving http/);
  for (const secret of c.secrets ?? []) expect(r.out, via).not.toContain(secret);
  expect(readdirSync(r.cwd), `${via} created files in its working directory`).toEqual([]);
}

describe("DSNs that are not what they look like", () => {
  it.each(CASES)("$dsn: exit 3 through --once, the daemon, DB_HEALTH_DSN, DB_HEALTH_DSN_FILE and config check; nothing created", (c) => {
    expectRefused(c, run(["--once", "--dsn", c.dsn]), "--once --dsn");
    expectRefused(c, run(["--once", "--format", "json", "--dsn", c.dsn]), "--once --format json");
    expectRefused(c, run(["--export-prom", "127.0.0.1:0", "--dsn", c.dsn]), "daemon --dsn");
    expectRefused(c, run(["--once"], { DB_HEALTH_DSN: c.dsn }), "DB_HEALTH_DSN");
    const dsnFile = join(root, `dsn-${CASES.indexOf(c)}`);
    writeFileSync(dsnFile, `${c.dsn}\n`, { mode: 0o600 });
    expectRefused(c, run(["--once"], { DB_HEALTH_DSN_FILE: dsnFile }), "DB_HEALTH_DSN_FILE");
    const yaml = join(root, `config-${CASES.indexOf(c)}.yaml`);
    writeFileSync(yaml, `targets:\n  - name: t\n    dsn: ${JSON.stringify(c.dsn)}\n`, { mode: 0o600 });
    expectRefused(c, run(["config", "check", yaml]), "config check");
  });

  it("a password put where a DSN belongs (a secret file, a variable) is never shown", () => {
    for (const password of ["Zk7Q-hunter2", "Zk7Q@home", "xK9#Zk7Q!", "Zk7Q/abc+def=="]) {
      const file = join(root, "misplaced-password");
      writeFileSync(file, `${password}\n`, { mode: 0o600 });
      const yaml = join(root, "misplaced.yaml");
      writeFileSync(yaml, `targets:\n  - dsnFile: ${file}\n`, { mode: 0o600 });
      for (const [via, r] of [
        ["DB_HEALTH_DSN_FILE", run(["--once"], { DB_HEALTH_DSN_FILE: file })],
        ["DB_HEALTH_DSN", run(["--once"], { DB_HEALTH_DSN: password })],
        ["dsnFile", run(["config", "check", yaml])],
      ] as const) {
        expect(r.code, `${via}: ${r.out}`).toBe(3);
        expect(r.out, via).toMatch(/unsupported DSN "\*\*\*"/);
        expect(r.out, via).not.toContain("Zk7Q");
      }
    }
  });

  it("an explicit SQLite target still works, and only mode=rwc creates its file", () => {
    const created = run(["--once", "--dsn", "file:new.db?mode=rwc"]);
    expect(created.code, created.out).toBe(0);
    expect(readdirSync(created.cwd)).toContain("new.db");
    const missing = run(["--once", "--max-retries", "0", "--dsn", "./missing.db"]);
    expect(missing.code, missing.out).toBe(1);
    expect(missing.out).toMatch(/DOWN .*no database file at \.\/missing\.db: a SQLite target is opened, never created, unless its DSN says mode=rwc/);
    expect(readdirSync(missing.cwd)).toEqual([]);
  });
});
