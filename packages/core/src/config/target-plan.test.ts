import { hostname } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { checkTargetConfigs, formatProblems } from "./check.js";
import { resolveTargetConfigs } from "./config.js";
import type { DriverDefinition } from "../contract/driver-definition.js";
import { createDriver } from "../probe/driver.js";
import { isDbHealthError } from "../contract/errors.js";
import { driverRegistry } from "../contract/registry.js";
import { isResolvedTarget, planTargets, retarget } from "./target-plan.js";

/** A plugin whose engine name is not its scheme, as README's naming rule is about. */
function acme(): DriverDefinition {
  return {
    name: "acme",
    packageName: "db-health-driver-acme",
    schemes: ["acmedb", "acme2"],
    createAdapter: () => {
      let token: string | undefined;
      return {
        connect: async () => undefined,
        ping: async () => undefined,
        role: async () => ({ role: "primary", readOnly: false }),
        write: async (t: string) => void (token = t),
        read: async () => token,
        close: async () => undefined,
      };
    },
  };
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected an error");
}

const registered: DriverDefinition[] = [];
afterEach(() => {
  for (const d of registered.splice(0)) driverRegistry.unregister(d);
});

describe("checkTargetConfigs: problems as data", () => {
  it("gives each problem its path from the target's index, and the fields a rule between fields compared", () => {
    const check = checkTargetConfigs([
      { dsn: "file:a.db", interval: "5x" },
      { dsn: "file:b.db", interval: "1m", pruneAfter: "1m", thresholds: { readLatency: "3s", "read-latency": 1 } },
    ]);
    expect(check.problems).toEqual([
      { path: [0, "interval"], message: expect.stringContaining('invalid duration "5x"') },
      { path: [1, "thresholds", "read-latency"], message: 'unknown option; did you mean "readLatency"?' },
      { path: [1, "thresholds", "readLatency"], related: ["readTimeout"], message: expect.stringContaining("must be less than readTimeout (2s)") },
      { path: [1, "pruneAfter"], related: ["interval"], message: expect.stringContaining("must be at least twice interval (1m)") },
    ]);
  });

  it("keeps each DSN's parse, even when another field of the target is wrong", () => {
    const check = checkTargetConfigs([{ dsn: "postgres://app:pw@db:5432/orders", interval: "5x" }, { dsn: "nonsense" }]);
    expect(check.targets[0]).toMatchObject({ dsn: { scheme: "postgres", host: "db", port: 5432, database: "orders" }, secrets: ["pw"] });
    expect(check.targets[0]).not.toHaveProperty("settings");
    expect(check.targets[1]).not.toHaveProperty("dsn");
    expect(check.problems.map((p) => p.path)).toEqual([[0, "interval"], [1, "dsn"]]);
  });

  it("names the first holder of a duplicate name as the caller names targets", () => {
    const inputs = [{ dsn: "file:a.db", name: "x" }, { dsn: "file:b.db", name: "x" }];
    expect(checkTargetConfigs(inputs).problems).toEqual([{ path: [1, "name"], message: '"x" is already the name of targets[0]; give each target its own name' }]);
    expect(checkTargetConfigs(inputs, { nameOf: (i) => `--dsn #${i + 1}` }).problems[0]?.message).toBe('"x" is already the name of --dsn #1; give each target its own name');
  });

  it("is what resolveTargetConfigs throws, as text", () => {
    const inputs = [{ dsn: "file:a.db", interval: "5x", thresholds: { bogus: 1 } }, { dsn: "postgres://u:Secr3t@h/db", name: "bad name" }];
    const message = thrown(() => resolveTargetConfigs(inputs)).message;
    const check = checkTargetConfigs(inputs);
    expect(formatProblems(check.problems, { secrets: check.secrets })).toBe(message);
    expect(message.split("\n")[0]).toMatch(/^targets\[0\]\.interval: /);
    expect(message).toContain('targets[0].thresholds.bogus: unknown option');
    expect(checkTargetConfigs("nope" as never).problems).toEqual([{ path: [], message: 'must be a list of targets, got "nope"' }]);
  });
});

describe("planTargets", () => {
  it("names a target after its driver's engine, not the DSN scheme, then -2", () => {
    const check = checkTargetConfigs([{ dsn: "acmedb://h/x" }, { dsn: "acme2://h/y" }, { dsn: "acmedb://h/z", name: "z" }]);
    const def = acme();
    const plans = planTargets(check, [def, def, def]);
    expect(plans.map((p) => p.config.name)).toEqual(["acme", "acme-2", "z"]);
    expect(plans[0]!.config.probeId).toBe(`${hostname()}/acme`);
    expect(plans[1]).toMatchObject({ dsn: { scheme: "acme2", host: "h", database: "y" }, definition: def, secrets: [] });
    expect(plans.every(isResolvedTarget)).toBe(true);
    expect(isResolvedTarget({ ...plans[0] })).toBe(false);
  });

  it("refuses a check with problems (as resolveTargetConfigs would) and definitions that do not match", () => {
    const bad = thrown(() => planTargets(checkTargetConfigs([{ dsn: "acmedb://u:Secr3t@h/x", interval: "5x" }]), [acme()]));
    expect(isDbHealthError(bad) && bad.kind).toBe("config");
    expect(bad.message).toMatch(/^targets\[0\]\.interval: invalid duration "5x"/);
    const mismatch = thrown(() => planTargets(checkTargetConfigs([{ dsn: "acmedb://h/x" }]), []));
    expect(isDbHealthError(mismatch) && mismatch.kind).toBe("contract");
  });

  it("resolveTargetConfigs names a target after the registered driver's engine too", () => {
    const def = acme();
    expect(resolveTargetConfigs([{ dsn: "acmedb://h/x" }])[0]!.name).toBe("acmedb"); // no driver registered: the scheme
    driverRegistry.register(def);
    registered.push(def);
    expect(resolveTargetConfigs([{ dsn: "acmedb://h/x" }, { dsn: "acme2://h/y" }]).map((c) => c.name)).toEqual(["acme", "acme-2"]);
  });
});

describe("createDriver and plans", () => {
  it("takes a plan as it is: no lookup in the registry, no second validation", async () => {
    const [plan] = planTargets(checkTargetConfigs([{ dsn: "acmedb://h/x", readTimeout: "1s" }]), [acme()]);
    // acme is registered nowhere: a lookup would fail.
    expect(driverRegistry.get("acmedb")).toBeUndefined();
    const driver = createDriver(plan!);
    expect(driver.config).toMatchObject({ name: "acme", readTimeout: 1000 });
    expect(driver.definition.name).toBe("acme");
    expect((await driver.probe()).status).toBe("up");
    await driver.close();
  });

  it("still validates options, with every problem named as before, and names the target after the driver", () => {
    const err = thrown(() => createDriver({ dsn: "acmedb://u:Secr3t@h/x", interval: "5x", bogus: 1 } as never, { definition: acme() }));
    expect(err.message).toBe('interval: invalid duration "5x": use a number with a unit, e.g. 500ms, 2s, 1m\nbogus: unknown option (known: dsn, name, role, cluster, connectTimeout, readTimeout, writeTimeout, maxRetries, retryInterval, interval, createHealthTable, writeCheck, connection, thresholds, maxReplicationLag, probeId, healthTable, schema, pruneAfter, checks)');
    expect(createDriver({ dsn: "acmedb://h/x" }, { definition: acme() }).config.name).toBe("acme");
    expect(thrown(() => createDriver({ dsn: "acmedb://u:Secr3t@h/x" })).message).toMatch(/^no driver for "acmedb:\/\/u@h\/x" \(scheme "acmedb"\); registered schemes: /);
  });

  it("a copy of a plan is not trusted: it is validated as options", () => {
    const [plan] = planTargets(checkTargetConfigs([{ dsn: "acmedb://h/x" }]), [acme()]);
    const err = thrown(() => createDriver({ ...plan! } as never, { definition: acme() }));
    expect(isDbHealthError(err) && err.kind).toBe("config");
  });
});

describe("retarget", () => {
  it("puts a plan on another DSN of its driver: settings, name and probe id kept, the DSN parsed once", () => {
    const [plan] = planTargets(checkTargetConfigs([{ dsn: "acmedb://probe@standin:1/db", name: "mod", connectTimeout: "2s" }]), [acme()]);
    const moved = retarget(plan!, "acme2://probe:Pw0rd@10.0.0.5:7000/orders");
    expect(isResolvedTarget(moved)).toBe(true);
    expect(moved.config).toEqual({ ...plan!.config, dsn: "acme2://probe:Pw0rd@10.0.0.5:7000/orders" });
    expect(moved.dsn).toMatchObject({ host: "10.0.0.5", port: 7000, database: "orders", password: "Pw0rd" });
    expect(moved.secrets).toContain("Pw0rd");
    expect(moved.definition).toBe(plan!.definition);
  });

  it("refuses a DSN its driver does not serve, one that does not parse, and a target that is not a plan", () => {
    const [plan] = planTargets(checkTargetConfigs([{ dsn: "acmedb://h/x" }]), [acme()]);
    expect(thrown(() => retarget(plan!, "postgres://u:Secr3t@h/x")).message).toBe('the acme driver does not serve "postgres://u@h/x" (scheme "postgres")');
    expect(thrown(() => retarget(plan!, "h:5432")).message).toMatch(/^unsupported DSN "h:5432"/);
    expect(isDbHealthError(thrown(() => retarget({ ...plan! }, "acmedb://h/y"))) && "contract").toBe("contract");
  });
});
