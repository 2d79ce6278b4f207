import { describe, expect, it } from "vitest";
import { signalNumber, startupStopCode, StoppedDuringStartup, untilStopped } from "./startup-stop.js";

const never = new Promise<never>(() => undefined);

describe("untilStopped", () => {
  it("passes the work's result or error through while no stop comes", async () => {
    const controller = new AbortController();
    await expect(untilStopped(Promise.resolve(7), controller.signal)).resolves.toBe(7);
    await expect(untilStopped(Promise.reject(new Error("boom")), controller.signal)).rejects.toThrow("boom");
  });

  it("rejects as soon as the stop comes, or at once when it came already", async () => {
    const controller = new AbortController();
    const waiting = untilStopped(never, controller.signal);
    controller.abort(Object.assign(new Error("received SIGINT"), { signal: "SIGINT" }));
    await expect(waiting).rejects.toThrow("stopped by SIGINT during start-up");
    await expect(untilStopped(Promise.resolve(1), controller.signal)).rejects.toBeInstanceOf(StoppedDuringStartup);
    expect(new StoppedDuringStartup({ signal: "SIGINT" }).message).toBe("stopped by SIGINT during start-up, before anything was probed or started");
  });

  it("answers a stop as the mode answers it at any other time", () => {
    const term = { signal: "SIGTERM" };
    expect(startupStopCode("daemon", false, term)).toBe(0);
    expect(startupStopCode("daemon", true, term)).toBe(143);
    expect(startupStopCode("daemon", true, { signal: "SIGINT" })).toBe(130);
    for (const mode of ["once", "config-check", "status"] as const) expect(startupStopCode(mode, false, term)).toBe(1);
    expect(signalNumber(undefined)).toBe(15);
  });
});
