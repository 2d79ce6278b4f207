import "@alfred/db-health-driver-sqlite";
import { createDriver } from "@alfred/db-health-core";
import { afterEach, describe, expect, it } from "vitest";
import { runDaemon } from "./daemon.js";
import { createLogger } from "./logger.js";

const warnings: Error[] = [];
const onWarning = (w: Error): void => void warnings.push(w);
afterEach(() => {
  process.off("warning", onWarning);
  warnings.length = 0;
});

describe("daemon", () => {
  it("probes many targets without a MaxListenersExceeded warning on its shutdown signal", async () => {
    process.on("warning", onWarning);
    const drivers = Array.from({ length: 25 }, (_, i) => createDriver({ dsn: "file::memory:", name: `t${i}`, interval: "1m" }));
    const stop = new AbortController();
    let cycles = 0;
    const log = createLogger({ write: (line: string) => void (line.includes('"status"') && cycles++) }, "info");
    const done = runDaemon({ drivers, listen: { host: "127.0.0.1", port: 0 }, legacyMetrics: true, version: "test", log, probeCacheMs: 1000, signal: stop.signal });
    while (cycles < drivers.length) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    await done;
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
  });
});
