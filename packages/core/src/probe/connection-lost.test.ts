import { describe, expect, it } from "vitest";
import { createDriver, type ConnectionLostEvent } from "./driver.js";
import { scriptedDefinition, type Script } from "../__fixtures__/scripted-driver.js";
import type { AdapterTarget } from "../contract/driver-definition.js";
import type { TargetOptions } from "../config/config.js";

// The adapter side of a lost connection is each driver's (their tests drop real connections);
// here, what core makes of an adapter's report.
const tick = (ms = 20): Promise<void> => new Promise((res) => setTimeout(res, ms));
const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/** A scripted driver that hands the test its `connectionLost` callback. */
function watched(script: Script = {}, over: Partial<TargetOptions> = {}, adapterHooks: { onClose?: () => void; onDestroy?: () => void } = {}) {
  const definition = scriptedDefinition(script);
  const base = definition.createAdapter;
  let target: AdapterTarget | undefined;
  definition.createAdapter = (t) => {
    target = t;
    const adapter = base(t);
    return {
      ...adapter,
      close: async () => {
        adapterHooks.onClose?.();
        await adapter.close();
      },
      destroy: () => {
        adapterHooks.onDestroy?.();
        adapter.destroy?.();
      },
    };
  };
  const driver = createDriver({ dsn: "scripted://app:hunter2pass@db/x", name: "orders", maxRetries: 0, ...over }, { definition });
  const events: ConnectionLostEvent[] = [];
  driver.onConnectionLost((e) => events.push(e));
  const lose = (reason: string): void => target!.connectionLost!(reason);
  return { driver, events, lose, state: definition.state };
}

describe("a connection lost between cycles", () => {
  it("is one event per connection, and the next cycle reconnects at its first attempt", async () => {
    const { driver, events, lose, state } = watched();
    expect((await driver.probe()).status).toBe("up");
    lose("terminating connection due to administrator command");
    lose("Connection terminated unexpectedly"); // pg says it twice: 'error', then 'end'
    await tick();
    expect(events).toEqual([{ target: "orders", driver: "scripted", reason: "terminating connection due to administrator command", at: expect.any(Number) }]);
    expect(state.destroyed).toBe(1); // core let go of the dead connection
    const r = await driver.probe();
    expect(r.status).toBe("up");
    expect(r.attempts).toBe(1);
    expect(r.phases.connect?.ok).toBe(true);
    expect(state.calls.filter((c) => c === "connect")).toHaveLength(2);
    // the new connection is watched too
    lose("socket hang up");
    await tick();
    expect(events.map((e) => e.reason)).toEqual(["terminating connection due to administrator command", "socket hang up"]);
  });

  it("redacts the reason with the target's secrets and folds it onto one line", async () => {
    const { driver, events, lose } = watched();
    await driver.probe();
    lose("lost scripted://app:hunter2pass@db/x\n  (password hunter2pass)");
    await tick();
    expect(events).toHaveLength(1);
    expect(events[0]!.reason).not.toContain("hunter2pass");
    expect(events[0]!.reason).not.toContain("\n");
  });

  it("is never reported for the driver's own close or destroy, nor after close()", async () => {
    // An adapter whose client reports every close, its own included.
    let lose: (reason: string) => void = () => undefined;
    const hooks = { onClose: () => lose("closed by us"), onDestroy: () => lose("destroyed by us") };
    const hung = watched({ ping: never }, { readTimeout: 50 }, hooks);
    lose = hung.lose;
    await hung.driver.connect().catch(() => undefined); // ping misses its deadline: destroy()
    const w = watched({}, { connection: "per-cycle" }, hooks);
    lose = w.lose;
    await w.driver.probe(); // closes after the cycle
    await tick();
    expect(w.state.calls.at(-1)).toBe("close");
    const closed = watched({}, {}, hooks);
    lose = closed.lose;
    await closed.driver.probe();
    await closed.driver.close();
    closed.lose("late event of the closed connection");
    await tick();
    expect([...hung.events, ...w.events, ...closed.events]).toEqual([]);
  });

  it("is ignored before anything connected", async () => {
    const { events, lose } = watched();
    lose("nothing to lose");
    await tick();
    expect(events).toEqual([]);
  });

  it("waits for a running operation to end, and is reported only if that left the connection broken", async () => {
    let report: (() => void) | undefined;
    const w = watched({ role: async () => (report?.(), { role: "primary", readOnly: false }) });
    await w.driver.probe();
    // lost during the role phase of a cycle whose later phases still passed: reported after it
    report = () => w.lose("lost mid-cycle");
    const r = await w.driver.probe();
    expect(r.status).toBe("up");
    await tick();
    expect(w.events.map((e) => e.reason)).toEqual(["lost mid-cycle"]);

    // lost while a cycle runs whose ping then fails and reconnects: that cycle dealt with it
    let pings = 0;
    const failing = watched({ ping: async () => (++pings === 2 ? (failing.lose("gone"), Promise.reject(new Error("gone"))) : undefined) }, { maxRetries: 1, retryInterval: 1 });
    await failing.driver.probe();
    const again = await failing.driver.probe();
    expect(again.status).toBe("up");
    expect(again.attempts).toBe(2);
    await tick();
    expect(failing.events).toEqual([]);
  });

  it("stops calling a listener once unsubscribed, and one failing listener does not silence the others", async () => {
    const { driver, events, lose } = watched();
    const other: string[] = [];
    driver.onConnectionLost(() => {
      throw new Error("listener bug");
    });
    const stop = driver.onConnectionLost((e) => other.push(e.reason));
    await driver.probe();
    lose("first");
    await tick();
    stop();
    await driver.probe();
    lose("second");
    await tick();
    expect(events.map((e) => e.reason)).toEqual(["first", "second"]);
    expect(other).toEqual(["first"]);
    expect(() => driver.onConnectionLost("nope" as never)).toThrow(TypeError);
  });
});
