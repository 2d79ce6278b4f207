// Preloaded into a measured daemon (`node --import`) to read its event-loop delay from inside:
// every second it writes the last second's delay percentiles (ms) and process.memoryUsage()
// (KB) to $BENCH_ELD_FILE as one JSON line; with $BENCH_HEAP_SNAPSHOT set, SIGUSR2 writes a heap
// snapshot there (v8.writeHeapSnapshot), for finding where a target's bytes go. A 10 ms-resolution histogram and one small append a second.
// The histogram wakes the process 100 times a second (~0.4 % of a core on an idle daemon here, as much
// as the daemon's own runtime metrics' monitor): with $BENCH_ELD_DEFER set, nothing runs until the
// process gets SIGWINCH, so that windows measuring a few % of a core (probing alone,
// Prometheus-style) do not count the bench's own monitor.
import { appendFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { getHeapSpaceStatistics, writeHeapSnapshot } from "node:v8";

const file = process.env.BENCH_ELD_FILE;
function start() {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  setInterval(() => {
    const m = process.memoryUsage();
    const kb = (b) => Math.round(b / 1024);
    const space = (name) => getHeapSpaceStatistics().find((s) => s.space_name === name);
    const mem = { rss: kb(m.rss), heapUsed: kb(m.heapUsed), heapTotal: kb(m.heapTotal), external: kb(m.external), arrayBuffers: kb(m.arrayBuffers), newSpace: kb(space("new_space")?.space_size ?? 0), oldSpace: kb(space("old_space")?.space_size ?? 0), oldUsed: kb(space("old_space")?.space_used_size ?? 0) };
    const line = { t: Date.now(), p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6, mean: h.mean / 1e6, ...mem };
    h.reset();
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  }, 1000).unref();
}
if (file && process.env.BENCH_ELD_DEFER) process.once("SIGWINCH", start);
else if (file) start();
if (process.env.BENCH_HEAP_SNAPSHOT) process.on("SIGUSR2", () => writeHeapSnapshot(process.env.BENCH_HEAP_SNAPSHOT));
