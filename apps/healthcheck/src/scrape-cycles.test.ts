import { createDriver, type DriverAdapter } from "@alfred/db-health-core";
import { describe, expect, it } from "vitest";
import { runDaemon } from "./daemon.js";
import { createLogger } from "./logger.js";

/**
 * Scraped as Prometheus scrapes a multi-target exporter (each `/probe?target=` once per scrape
 * interval, the targets spread over it), a target the daemon probes on its own interval must not
 * be probed twice per interval: a scrape that finds the loop's result older than the probe
 * cache runs the cycle, and the loop then counts its interval from that one (docs/http.md).
 * Cycles are counted; nothing is timed. Scaled down from 15 s interval, 5 s cache and 15 s
 * scrapes to 600 ms, 200 ms and 600 ms.
 */
describe("daemon under Prometheus-style /probe scrapes", () => {
  it("runs about one cycle per target per interval, not one for the loop and one for the scrape", async () => {
    const TARGETS = 4;
    const ROUNDS = 8;
    const PERIOD_MS = 600;
    const cycles = new Map<string, number>();
    const definition = {
      name: "counting",
      schemes: ["counting"],
      createAdapter: (target: { config: { name: string } }): DriverAdapter => {
        let token: string | undefined;
        return {
          connect: async () => undefined,
          ping: async () => void cycles.set(target.config.name, (cycles.get(target.config.name) ?? 0) + 1),
          role: async () => ({ role: "primary" as const, readOnly: false }),
          write: async (t: string) => void (token = t),
          read: async () => token,
          close: async () => undefined,
        };
      },
    };
    const drivers = Array.from({ length: TARGETS }, (_, i) => createDriver({ dsn: "counting://h/db", name: `t${i}`, interval: `${PERIOD_MS}ms`, maxRetries: 0 }, { definition }));
    const stop = new AbortController();
    let base = "";
    const log = createLogger({ write: (line: string) => void (base ||= /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(line)?.[1] ?? "") }, "info");
    const done = runDaemon({ drivers, listen: { host: "127.0.0.1", port: 0 }, legacyMetrics: true, version: "test", log, probeCacheMs: PERIOD_MS / 3, signal: stop.signal });
    try {
      for (let i = 0; i < 500 && (!base || cycles.size < TARGETS); i++) await new Promise((r) => setTimeout(r, 10));
      const before = new Map(cycles);
      let scrapes = 0;
      // Each target scraped once per period, the targets' scrapes spread over the period.
      const scraper = async (i: number): Promise<void> => {
        await new Promise((r) => setTimeout(r, (i * PERIOD_MS) / TARGETS));
        for (let round = 0; round < ROUNDS; round++) {
          const next = new Promise((r) => setTimeout(r, PERIOD_MS));
          const res = await fetch(`${base}/probe?target=t${i}`, { headers: { "X-Prometheus-Scrape-Timeout-Seconds": "10" } });
          expect(res.status).toBe(200);
          await res.text();
          scrapes++;
          await next;
        }
      };
      await Promise.all(drivers.map((_, i) => scraper(i)));
      expect(scrapes).toBe(TARGETS * ROUNDS);
      // The loop alone runs ROUNDS cycles per target in that time, the loop plus every scrape
      // 2 × ROUNDS; the rule keeps it to about ROUNDS (a loop period is jittered ±10 %).
      for (const d of drivers) {
        const ran = (cycles.get(d.config.name) ?? 0) - (before.get(d.config.name) ?? 0);
        expect(ran, d.config.name).toBeLessThanOrEqual(Math.ceil(ROUNDS * 1.5));
      }
    } finally {
      stop.abort();
      await done;
    }
  }, 60_000);
});
