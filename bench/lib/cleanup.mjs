// Cleanup that runs however a benchmark ends: normal exit, an exception, ^C or SIGTERM.
// Steps run last-registered first; each is bounded and its failure is reported, not thrown.
const steps = [];
let running;

/** Registers `fn` (sync or async); returns a function that runs it now and unregisters it. */
export function onCleanup(label, fn) {
  const step = { label, fn };
  steps.push(step);
  return async () => {
    const i = steps.indexOf(step);
    if (i !== -1) steps.splice(i, 1);
    await runStep(step);
  };
}

async function runStep({ label, fn }) {
  try {
    await Promise.race([fn(), new Promise((r) => setTimeout(r, 20_000).unref())]);
  } catch (err) {
    process.stderr.write(`cleanup: ${label}: ${err?.message ?? err}\n`);
  }
}

/** Runs every registered step once (idempotent). */
export function cleanupAll() {
  running ??= (async () => {
    while (steps.length > 0) await runStep(steps.pop());
  })();
  return running;
}

for (const [sig, number] of [["SIGINT", 2], ["SIGTERM", 15], ["SIGHUP", 1]]) {
  process.on(sig, () => {
    process.stderr.write(`\n${sig}: cleaning up…\n`);
    void cleanupAll().finally(() => process.exit(128 + number));
  });
}

/** Runs `main`, then cleans up whatever happened; exits non-zero on failure. */
export async function guarded(main) {
  try {
    await main();
  } catch (err) {
    process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  } finally {
    await cleanupAll();
  }
}
