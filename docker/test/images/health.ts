/**
 * HEALTHCHECK without systemd: podman schedules health checks with systemd timers, and there is
 * no systemd here, so nothing runs them by themselves. The tests run each check with
 * `podman healthcheck run` (podman then applies the image's retries and start period exactly as
 * its timer would) and read the state podman keeps, recording every change of status.
 */
import { podman, podmanOk } from "./podman.js";

/** What `podman inspect` says about a container's health. */
export interface Health {
  /** starting | healthy | unhealthy ("" before the first check) */
  status: string;
  failingStreak: number;
  /** output of the last check (e.g. `200 ready`) */
  lastOutput: string;
}

/** A status change seen by {@link HealthLog}. */
export interface Transition {
  container: string;
  /** seconds since the log was created */
  at: number;
  from: string;
  to: string;
  /** what the check printed */
  output: string;
}

/**
 * The container's health state, as podman keeps it (no check is run).
 *
 * @example
 * ```ts
 * const { status, failingStreak } = await health("dbh-daemon"); // "healthy", 0
 * ```
 */
export async function health(container: string): Promise<Health> {
  const raw = await podmanOk(["inspect", "--format", "{{json .State.Health}}", container], { timeoutMs: 30_000 });
  const h = JSON.parse(raw) as { Status?: string; FailingStreak?: number; Log?: Array<{ Output?: string }> } | null;
  return { status: h?.Status ?? "", failingStreak: h?.FailingStreak ?? 0, lastOutput: (h?.Log?.at(-1)?.Output ?? "").trim() };
}

/**
 * Records health transitions of several containers, for the closing note.
 *
 * @example
 * ```ts
 * const log = new HealthLog();
 * const h = await log.check("dbh-daemon");   // runs the HEALTHCHECK once
 * await log.until("dbh-daemon", "healthy", 60_000);
 * console.log(log.transitions);
 * ```
 */
export class HealthLog {
  readonly transitions: Transition[] = [];
  readonly #started = Date.now();
  readonly #last = new Map<string, string>();

  /** Runs the container's HEALTHCHECK once (bounded) and returns the state it leaves. */
  async check(container: string): Promise<Health> {
    // Exit code 1 means "unhealthy": the state below tells; only a hung check is an error.
    const r = await podman(["healthcheck", "run", container], { timeoutMs: 60_000 });
    if (r.timedOut) throw new Error(`podman healthcheck run ${container} hung for 60 s`);
    const h = await health(container);
    const from = this.#last.get(container) ?? "created";
    if (h.status !== from) {
      this.transitions.push({ container, at: Math.round((Date.now() - this.#started) / 100) / 10, from, to: h.status, output: h.lastOutput.split("\n")[0] ?? "" });
      this.#last.set(container, h.status);
    }
    return h;
  }

  /** Runs the HEALTHCHECK every `everyMs` until the status is `want`; throws after `timeoutMs`. */
  async until(container: string, want: string, timeoutMs: number, everyMs = 1000): Promise<Health> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const h = await this.check(container);
      if (h.status === want) return h;
      if (Date.now() > deadline) throw new Error(`${container} not ${want} within ${timeoutMs / 1000} s: ${JSON.stringify(h)}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  /** One line per transition. */
  lines(): string[] {
    return this.transitions.map((t) => `${t.at.toFixed(1).padStart(6)} s  ${t.container}: ${t.from} -> ${t.to}${t.output ? `  (${t.output})` : ""}`);
  }
}
