import { describe, expect, it } from "vitest";
import { createDriver } from "../probe/driver.js";
import { guardAdapter } from "./adapter-guard.js";
import { scriptedDefinition, type Script } from "../__fixtures__/scripted-driver.js";
import type { DriverDefinition } from "./driver-definition.js";

const plugin = { name: "acme", packageName: "@acme/db-health-driver-acme" };
const probe = (script: Script) =>
  createDriver({ dsn: "scripted://h/db", maxRetries: 0 }, { definition: { ...scriptedDefinition(script), ...plugin } }).probe();

describe("adapters that break the contract", () => {
  it("rejects an adapter without the required methods when the driver is created, naming the plugin", () => {
    const definition: DriverDefinition = { ...plugin, schemes: ["acme"], createAdapter: () => ({ connect: async () => undefined, close: async () => undefined }) as never };
    expect(() => createDriver({ dsn: "acme://h/db" }, { definition })).toThrow(
      "acme: acme (@acme/db-health-driver-acme): the adapter from createAdapter() has no ping(), role(), write(), read()",
    );
    expect(() => guardAdapter(undefined, plugin)).toThrow("acme (@acme/db-health-driver-acme): createAdapter() returned undefined, not an adapter object");
    expect(() => guardAdapter({ ...scriptedDefinition().createAdapter({} as never), destroy: true }, plugin)).toThrow("destroy must be a method when present");
  });

  it("turns a role() answer of the wrong shape into a degraded result with the rule, never a crash or a stray label", async () => {
    const nothing = await probe({ role: async () => undefined as never });
    expect(nothing.status).toBe("degraded");
    expect(nothing.problems[0]).toBe(
      'role check failed: acme (@acme/db-health-driver-acme): role() returned undefined: return { role: "primary" | "replica" | "unknown", readOnly: boolean }',
    );
    const master = await probe({ role: async () => ({ role: "master", lagSeconds: -1 }) as never });
    expect(master.role).toBe("unknown");
    expect(master.problems[0]).toBe(
      'role check failed: acme (@acme/db-health-driver-acme): role() returned { role: "master", lagSeconds: -1 }: role must be "primary", "replica" or "unknown"; readOnly must be a boolean; lagSeconds must be a number of seconds, 0 or more',
    );
  });

  it("fails the read when read() returns something other than a string or undefined", async () => {
    const r = await probe({ read: async () => null as never });
    expect(r.status).toBe("degraded");
    expect(r.phases.read?.ok).toBe(false);
    expect(r.reason).toBe(
      "read check failed: acme (@acme/db-health-driver-acme): read() returned null: return the stored token string, or undefined when this prober has no row",
    );
  });

  it("reports a read() that returns another token as a failed verification", async () => {
    const r = await probe({ read: async () => "not-the-token" });
    expect(r.status).toBe("degraded");
    expect(r.reason).toBe("read-back returned a different token than was written");
  });

  it("ignores a connections() answer that is not a count, without degrading", async () => {
    const r = await probe({ connections: async () => Number.NaN });
    expect(r.status).toBe("up");
    expect(r.connections).toBeUndefined();
    expect(r.phases.connections).toMatchObject({ ok: false, error: expect.stringContaining("connections() returned NaN: return a whole number of connections") });
  });

  it("redacts a secret that a broken adapter puts into its answer", async () => {
    const r = await probe({ role: async () => ({ role: "postgres://app:Hunter2-Secret@db/x" }) as never });
    expect(JSON.stringify(r)).not.toContain("Hunter2-Secret");
  });
});
