// Preloaded into a measured daemon (`node --import`) to read its event-loop delay from inside:
// every second it writes the last second's delay percentiles (ms) to $BENCH_ELD_FILE as one
// JSON line. A 10 ms-resolution histogram and one small append a second: negligible next to the
// figures measured.
import { appendFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

const file = process.env.BENCH_ELD_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  setInterval(() => {
    const line = { t: Date.now(), p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6, mean: h.mean / 1e6 };
    h.reset();
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  }, 1000).unref();
}
