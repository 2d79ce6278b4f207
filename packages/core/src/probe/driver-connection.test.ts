import { describe, expect, it } from "vitest";
import { createDriver } from "./driver.js";
import type { DriverDefinition } from "../contract/driver-definition.js";

/** an engine that counts the connections it opens and closes */
function countingEngine() {
  const counts = { opened: 0, closed: 0, open: 0 };
  const definition: DriverDefinition = {
    name: "counting",
    schemes: ["counting"],
    createAdapter: () => {
      let token: string | undefined;
      let connected = false;
      return {
        connect: async () => {
          counts.opened++;
          counts.open++;
          connected = true;
        },
        ping: async () => {
          if (!connected) throw new Error("not connected");
        },
        role: async () => ({ role: "primary", readOnly: false }),
        write: async (t) => void (token = t),
        read: async () => token,
        close: async () => {
          if (!connected) return;
          connected = false;
          counts.closed++;
          counts.open--;
        },
      };
    },
  };
  return { counts, definition };
}

describe("connection setting", () => {
  it("persistent (the default) keeps one connection across cycles", async () => {
    const { counts, definition } = countingEngine();
    const d = createDriver({ dsn: "counting://h/db", maxRetries: 0 }, { definition });
    for (let i = 0; i < 3; i++) expect((await d.probe()).status).toBe("up");
    expect(counts).toEqual({ opened: 1, closed: 0, open: 1 });
    await d.close();
    expect(counts.open).toBe(0);
  });

  it("per-cycle opens the connection for each cycle and leaves nothing open between them", async () => {
    const { counts, definition } = countingEngine();
    const d = createDriver({ dsn: "counting://h/db", maxRetries: 0, connection: "per-cycle" }, { definition });
    for (let i = 0; i < 3; i++) {
      const r = await d.probe();
      expect(r.status).toBe("up");
      expect(r.phases.connect?.ok).toBe(true); // every cycle measures a connect
      expect(counts.open).toBe(0);
    }
    expect(counts).toEqual({ opened: 3, closed: 3, open: 0 });
    await d.close();
  });

  it("rejects anything else with the choices", async () => {
    const { definition } = countingEngine();
    expect(() => createDriver({ dsn: "counting://h/db", connection: "pooled" as never }, { definition })).toThrow(/connection: must be one of persistent, per-cycle|persistent.*per-cycle/);
  });
});
