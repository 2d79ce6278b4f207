import { afterAll, describe, expect, it } from "vitest";
import { resolveError, resolveOk, tempDir } from "./__fixtures__/helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe("cluster: in the YAML file", () => {
  it("is read per target; targets without it belong to none", async () => {
    const file = tmp.write(
      "cluster.yaml",
      `targets:
  - { name: pg-a, dsn: "postgres://app@db-a:5432/app", cluster: main }
  - { name: pg-b, dsn: "postgres://app@db-b:5432/app", cluster: main, role: replica }
  - { name: solo, dsn: "postgres://app@db-c:5432/app" }
`,
    );
    const plan = await resolveOk(["--once", "--config", file]);
    expect(plan.targetOptions.map((t) => [t.name, t.cluster])).toEqual([
      ["pg-a", "main"],
      ["pg-b", "main"],
      ["solo", undefined],
    ]);
  });

  it("names the file, the path and the line of a bad cluster name", async () => {
    const file = tmp.write("bad.yaml", `targets:\n  - name: a\n    dsn: "postgres://app@db:5432/app"\n    cluster: "main cluster"\n`);
    const message = await resolveError(["--once", "--config", file]);
    expect(message).toBe(
      `${file}: targets[0].cluster (line 4): "main cluster" is not a valid cluster name: use 1–63 letters, digits, "_", ".", ":" or "-", starting with a letter or digit`,
    );
  });

  it("is refused under defaults: and in a module's settings, saying where it belongs", async () => {
    const file = tmp.write(
      "misplaced.yaml",
      `defaults:
  cluster: main
targets:
  - dsn: "postgres://app@db:5432/app"
modules:
  pg:
    engine: postgres
    user: app
    allow: { cidrs: [10.0.0.0/8] }
    settings: { cluster: main }
`,
    );
    const message = await resolveError(["--config", file]);
    expect(message).toContain(`${file}: defaults.cluster (line 2): cluster is set per target: give each member of the cluster cluster: under targets:`);
    expect(message).toContain("modules.pg.settings.cluster (line 10): a discovered target is probed only when scraped: it cannot be a cluster member");
  });

  it("has no flag", async () => {
    expect(await resolveError(["--once", "--dsn", "file:a.db", "--cluster", "main"])).toContain("--cluster");
  });
});
