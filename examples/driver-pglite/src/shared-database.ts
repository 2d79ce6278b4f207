import type { PGlite } from "@electric-sql/pglite";

/** A reference to the process's PGlite instance for one data directory. */
export interface SharedDatabase {
  readonly db: PGlite;
  /** Drops this reference; the last one closes the instance (flushing it to disk). Idempotent. */
  release(): Promise<void>;
}

// PGlite is single-user: two instances on one data directory corrupt it. Every adapter and
// helper of this process therefore shares one instance per directory, counted by reference.
const open = new Map<string, { refs: number; ready: Promise<PGlite> }>();
// An instance still closing: the next open of its directory waits for it.
const closing = new Map<string, Promise<void>>();

/**
 * Opens the data directory (or joins the instance already open in this process).
 *
 * @example
 * ```ts
 * const shared = await openShared("/var/lib/app/pgdata");
 * try { await shared.db.query("SELECT 1"); } finally { await shared.release(); }
 * ```
 */
export async function openShared(dataDir: string): Promise<SharedDatabase> {
  let entry = open.get(dataDir);
  if (!entry) {
    // Imported on first use: the WebAssembly build is large and `healthcheck --help` needs none of it.
    const ready = (closing.get(dataDir) ?? Promise.resolve()).then(async () => (await import("@electric-sql/pglite")).PGlite.create(dataDir));
    const created = { refs: 0, ready };
    ready.catch(() => open.get(dataDir) === created && open.delete(dataDir));
    open.set(dataDir, (entry = created));
  }
  const mine = entry;
  mine.refs++;
  const db = await mine.ready.catch((err: unknown) => {
    mine.refs--;
    throw err;
  });
  let released = false;
  return {
    db,
    async release() {
      if (released) return;
      released = true;
      if (--mine.refs > 0) return;
      if (open.get(dataDir) === mine) open.delete(dataDir);
      const done = db.close().finally(() => closing.get(dataDir) === done && closing.delete(dataDir));
      closing.set(dataDir, done);
      await done;
    },
  };
}
