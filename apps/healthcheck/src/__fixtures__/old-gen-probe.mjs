// Preloaded (node --import) into a process by young-generation.test.ts: on SIGUSR2 it allocates
// the way a daemon's scrapes do (a live set that stays, and large bodies rendered, sent and
// dropped) and writes the largest V8 heap it saw, in bytes, to $OLD_GEN_FILE.
import { writeFileSync } from "node:fs";
import { getHeapStatistics } from "node:v8";

const load = () => {
  // ~40 MB that stays alive, as 1,000 targets' state does.
  const live = Array.from({ length: 40_000 }, (_, i) => ({ text: `${"y".repeat(900)}${i}`, n: i }));
  let peak = 0;
  let round = 0;
  let body;
  const tick = () => {
    // A 4 MB body per round, joined from its parts as /metrics is, dropped at the next one.
    body = Array.from({ length: 4096 }, (_, i) => `${round} ${i} ${"x".repeat(1000)}`).join("\n");
    peak = Math.max(peak, getHeapStatistics().total_heap_size);
    if (++round < 150) return void setTimeout(tick, 2);
    writeFileSync(process.env.OLD_GEN_FILE, `${peak} ${live.length + body.length}`);
  };
  tick();
};
process.on("SIGUSR2", load);
// In a plain process (the test's control) at once.
if (process.env.OLD_GEN_SELF_TEST) load();
