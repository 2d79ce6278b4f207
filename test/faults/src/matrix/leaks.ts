/**
 * What a probe leaves behind: file descriptors, live libuv handles (sockets, timers, child
 * processes) in this process, and sessions on the database server. A snapshot is taken before a
 * fault case; after the case has closed everything it opened, `leftBehind` waits (bounded) for
 * every count to return to the snapshot and names whatever did not.
 */
import { openFds } from "@alfred/db-health-testkit";

/** libuv resources that a leaked connection or timer would show up as */
const WATCHED = new Set(["TCPSocketWrap", "TCPServerWrap", "PipeWrap", "ProcessWrap", "Timeout", "Immediate"]);

export interface Snapshot {
  fds: number;
  handles: Map<string, number>;
  sessions: number;
}

function handles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (WATCHED.has(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

export async function snapshot(sessions: () => Promise<number> = async () => 0): Promise<Snapshot> {
  return { fds: openFds(), handles: handles(), sessions: await sessions() };
}

function differences(before: Snapshot, now: Snapshot): string[] {
  const out: string[] = [];
  if (now.fds > before.fds) out.push(`${now.fds - before.fds} fd`);
  for (const [kind, n] of now.handles) {
    const extra = n - (before.handles.get(kind) ?? 0);
    if (extra > 0) out.push(`${extra} ${kind}`);
  }
  if (now.sessions > before.sessions) out.push(`${now.sessions - before.sessions} server session`);
  return out;
}

/**
 * "nothing" once fds, watched handles and server sessions are back at the snapshot (polling up
 * to `withinMs`: sockets close and server backends exit asynchronously), else what remains.
 */
export async function leftBehind(before: Snapshot, sessions: () => Promise<number> = async () => 0, withinMs = 3_000): Promise<string> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const diff = differences(before, await snapshot(sessions));
    if (diff.length === 0) return "nothing";
    if (Date.now() > deadline) return diff.join(", ");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
