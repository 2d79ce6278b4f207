import { afterAll, describe, expect, it } from "vitest";
import { resolveTargetConfigs } from "@alfred/db-health-core";
import { resolveError, resolveOk, tempDir } from "./__fixtures__/helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe("checks: in the YAML file", () => {
  it("are resolved into each target's configuration, a check's timeout defaulting to readTimeout", async () => {
    const file = tmp.write(
      "checks.yaml",
      `defaults:
  readTimeout: 3s
targets:
  - name: app
    dsn: file:app.db
    checks:
      - name: backlog
        query: SELECT count(*) FROM jobs WHERE state = 'queued'
        max: 1000
      - name: lag
        query: SELECT 1
        timeout: 500ms
  - name: other
    dsn: file:other.db
`,
    );
    const plan = await resolveOk(["--once", "--config", file]);
    expect(resolveTargetConfigs(plan.targetOptions).map((t) => t.checks)).toEqual([
      [
        { name: "backlog", query: "SELECT count(*) FROM jobs WHERE state = 'queued'", max: 1000, timeout: 3000 },
        { name: "lag", query: "SELECT 1", timeout: 500 },
      ],
      [],
    ]);
  });

  it("name each problem by its path into the list and its line, in a target and in defaults", async () => {
    const file = tmp.write(
      "bad-checks.yaml",
      `defaults:
  checks:
    - name: Bad-Name
      query: SELECT 1
targets:
  - name: app
    dsn: file:app.db
    checks:
      - name: backlog
        query: SELECT 1
      - name: backlog
        query: ""
        min: 5
        max: 1
        timout: 2s
  - name: other
    dsn: file:other.db
`,
    );
    // The defaults' checks are checked for the target that takes them (other), not for app.
    const message = await resolveError(["--once", "--config", file]);
    expect(message.split("\n").sort()).toEqual(
      [
        `${file}: defaults.checks[0].name (line 3): "Bad-Name" is not a valid check name: use 1–63 lowercase letters, digits or "_", starting with a letter`,
        `${file}: targets[0].checks[1].max (line 14): 1 is less than min (5): no value could pass; swap them or fix one`,
        `${file}: targets[0].checks[1].name (line 11): "backlog" is already the name of checks[0]; give each check its own name`,
        `${file}: targets[0].checks[1].query (line 12): must not be empty: give one SQL statement whose first column is a number, e.g. SELECT count(*) FROM jobs`,
        `${file}: targets[0].checks[1].timout (line 15): unknown option; did you mean "timeout"?`,
      ].sort(),
    );
  });

  it("warn when a target's check timeouts add up to its interval or more, and only then", async () => {
    const file = tmp.write(
      "slow-checks.yaml",
      `targets:
  - name: slow
    dsn: file:slow.db
    interval: 10s
    checks:
      - { name: a, query: SELECT 1, timeout: 6s }
      - { name: b, query: SELECT 1, timeout: 4s }
  - name: fine
    dsn: file:fine.db
    interval: 10s
    checks:
      - { name: a, query: SELECT 1, timeout: 9s }
`,
    );
    const plan = await resolveOk(["--once", "--config", file]);
    expect(plan.warnings).toEqual([
      'targets[0] "slow": its 2 check(s) may take up to 10s together (the sum of their timeouts), not less than its interval 10s: on a slow server its cycles run back to back; shorten the timeouts or lengthen the interval',
    ]);
  });
});
