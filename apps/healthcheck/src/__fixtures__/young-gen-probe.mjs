// Preloaded (node --import) into a process by young-generation.test.ts: on SIGUSR2 it allocates
// the way many probe cycles do (short-lived objects, a share surviving a few scavenges) and
// writes V8's new-space size before and after it to $YOUNG_GEN_FILE ("before after").
import { writeFileSync } from "node:fs";
import { getHeapSpaceStatistics } from "node:v8";

const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;
const load = () => {
  const before = newSpace();
  const keep = [];
  let round = 0;
  const tick = () => {
    for (let k = 0; k < 2000; k++) {
      const o = { a: `${"x".repeat(50)}${k}`, b: [k, k + 1], c: new Map() };
      if (k % 50 === 0) keep.push(o);
    }
    if (keep.length > 20_000) keep.splice(0, 10_000);
    if (++round < 400) return void setImmediate(tick);
    writeFileSync(process.env.YOUNG_GEN_FILE, `${before} ${newSpace()}`);
  };
  tick();
};
process.on("SIGUSR2", load);
// In a plain process (the test's control) at once.
if (process.env.YOUNG_GEN_SELF_TEST) load();
