import { describe, expect, it } from "vitest";
import type { DriverDefinition } from "@alfred/db-health-core";
import { checkAdapterContract } from "./adapter-contract.js";
import { checkPruning } from "./pruning.js";
import { brokenMemoryDriver, countMemoryRows, databases, legacyMemoryDriver, memoryDriver } from "./__fixtures__/memory-driver.js";

const DSN = "memory://contract";
const who = "memory (db-health-driver-memory)";
const check = (override: Parameters<typeof brokenMemoryDriver>[0]) => checkAdapterContract(brokenMemoryDriver(override), DSN);

describe("checkAdapterContract", () => {
  it("passes a correct adapter", async () => {
    await expect(checkAdapterContract(memoryDriver, DSN)).resolves.toBeUndefined();
  });

  it("names the driver and the rule for each kind of violation", async () => {
    await expect(check(() => ({ read: undefined }))).rejects.toThrow(`${who}: the adapter from createAdapter() has no read()`);
    await expect(check((real) => ({ read: async (s: AbortSignal) => (await real.read(s)) ?? null }))).rejects.toThrow(
      `${who}: read() for a prober that never wrote failed: read() returned null: return the stored token string, or undefined when this prober has no row`,
    );
    await expect(check(() => ({ read: async () => "stale-token" }))).rejects.toThrow(
      `${who}: read() returned "stale-token" for a prober that never wrote: return undefined when there is no row`,
    );
    let first: string | undefined;
    const insertOnce = check((real) => ({ write: async (token: string, s: AbortSignal) => void (first ??= token), read: async () => first ?? (await real.read(AbortSignal.timeout(1000))) }));
    await expect(insertOnce).rejects.toThrow(/read\(\) after write\("[\w-]{8}"\) returned "[\w-]{8}": it must return the stored tokens with the one this prober wrote last first \(an upsert\)/);
    // Overwriting the token (the upsert before probers could share a probe id) loses a prober's own write.
    const overwrite = check((real) => ({
      write: async (token: string, s: AbortSignal) => {
        await real.write(token, s);
        const rows = databases.get("contract")!.get("_health_check")!;
        for (const [id, stored] of rows) rows.set(id, { ...stored, token: stored.token.split(" ")[0]! });
      },
    }));
    await expect(overwrite).rejects.toThrow(
      /read\(\) after two writes by another prober with the same probe id returned "[\w-]{8}", expected it to start with "[\w-]{8} [\w-]{8} [\w-]{8}": keep the latest tokens, newest first/,
    );
    await expect(check(() => ({ role: async () => ({ role: "leader", readOnly: false }) }))).rejects.toThrow(
      `${who}: role() failed: role() returned { role: "leader", readOnly: false }: role must be "primary", "replica" or "unknown"`,
    );
    await expect(check(() => ({ connections: async () => -1 }))).rejects.toThrow(`${who}: connections() failed: connections() returned -1: return a whole number of connections`);
    await expect(check(() => ({ close: async () => { throw new Error("not connected"); } }))).rejects.toThrow(
      `${who}: close() before connect() (it must be safe when not connected) failed: not connected`,
    );
    await expect(check(() => ({ connected: () => true }))).rejects.toThrow(`${who}: connected() is still true after close()`);
  });

  it("refuses an adapter that reports its own close() as a lost connection", async () => {
    const noisy = {
      ...memoryDriver,
      createAdapter: (target: Parameters<typeof memoryDriver.createAdapter>[0]) => {
        const real = memoryDriver.createAdapter(target);
        return {
          ...real,
          close: async () => {
            await real.close();
            setImmediate(() => target.connectionLost?.("socket closed"));
          },
        };
      },
    };
    await expect(checkAdapterContract(noisy, DSN)).rejects.toThrow(
      `${who}: close() was reported as a lost connection (connectionLost("socket closed")): report only a loss of the connection you hold, not one you close yourself`,
    );
  });

  it("redacts what a failing adapter says", async () => {
    const err = await check(() => ({ connect: async () => { throw new Error("cannot reach postgres://app:Sup3r-Secret@db/x"); } })).catch((e: Error) => e);
    expect(String(err)).toContain("connect() failed: cannot reach postgres://app:***@db/x");
    expect(String(err)).not.toContain("Sup3r-Secret");
  });

  it("checkPruning passes a driver that prunes, and names the rule for one that ignores pruneAfter", async () => {
    const count = async (dsn: string, table: string, probeId: string): Promise<number> => countMemoryRows(dsn, table, probeId);
    await expect(checkPruning(memoryDriver, "memory://prune", count)).resolves.toBeUndefined();
    // A hand-written adapter from before pruneAfter was part of the contract: it never deletes.
    const ignoring: DriverDefinition = { ...legacyMemoryDriver, createAdapter: (t) => legacyMemoryDriver.createAdapter({ ...t, config: { ...t.config, pruneAfter: 86_400_000 } }) };
    await expect(checkPruning(ignoring, "memory://prune-ignored", count)).rejects.toThrow(
      /^memory-legacy \(db-health-driver-memory-legacy\): a write by a prober with pruneAfter=1s left the row of a prober last seen 2\.2 s before: delete the rows of other probers/,
    );
    // Deleting every other row is as wrong: a live prober's row goes with it.
    const eager = brokenMemoryDriver((real) => ({
      write: async (token: string, s: AbortSignal) => {
        await real.write(token, s);
        for (const rows of databases.get("prune-eager")?.values() ?? []) for (const id of rows.keys()) if (!id.startsWith("prune-pruner")) rows.delete(id);
      },
    }));
    await expect(checkPruning(eager, "memory://prune-eager", count)).rejects.toThrow(/pruning deleted the row of a prober that wrote just before/);
  });
});
