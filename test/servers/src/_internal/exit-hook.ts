/**
 * A crashed or interrupted test run must not leave servers or their temp dirs behind. "exit"
 * handlers must be synchronous, so each server is signalled directly (killSync). vitest ends its
 * fork workers with SIGTERM, which skips "exit" handlers, so the usual termination signals get the
 * same cleanup and are then re-raised with their default action (unless someone else also
 * listens, a benchmark's own cleanup for instance: then they decide). SIGKILL cannot be covered.
 */

export interface KillableSync {
  /** best effort, synchronous: signal the server and remove its files */
  killSync(): void;
}

/** servers not destroyed yet (running or stopped) */
const live = new Set<KillableSync>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const killAll = (): void => {
    for (const server of live) server.killSync();
    live.clear();
  };
  process.on("exit", killAll);
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    const onSignal = (): void => {
      killAll();
      process.removeListener(sig, onSignal);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/** Registers a server for the exit-time cleanup. */
export function track(server: KillableSync): void {
  live.add(server);
  install();
}

/** Unregisters it (destroyed). */
export function untrack(server: KillableSync): void {
  live.delete(server);
}
