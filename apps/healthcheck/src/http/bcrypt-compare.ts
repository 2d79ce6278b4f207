/** The comparison the bcrypt worker runs for each message (see bcrypt-worker.ts). */
import { randomBytes } from "node:crypto";
import bcrypt from "bcryptjs";

/** One comparison asked of the worker. */
export interface VerifyJob {
  id: number;
  password: string;
  /** The user's hash; undefined for an unknown user, who is compared against a dummy hash. */
  hash: string | undefined;
  /** Cost of the dummy hash: the highest cost configured, so an unknown user takes as long. */
  rounds: number;
}

/** The worker's answer; `failed` when bcryptjs threw. */
export interface VerifyAnswer {
  id: number;
  ok: boolean;
  failed?: true;
}

// A hash of a random secret per cost, made on first use; nothing ever matches it.
const dummies = new Map<number, string>();

/**
 * Compares synchronously: it runs on the worker thread, where blocking is the point.
 *
 * @example
 * ```ts
 * answer({ id: 1, password: "s3cret", hash: "$2b$10$…", rounds: 10 }); // { id: 1, ok: true }
 * ```
 */
export function answer(job: VerifyJob): VerifyAnswer {
  try {
    let hash = job.hash;
    if (hash === undefined) {
      hash = dummies.get(job.rounds) ?? bcrypt.hashSync(randomBytes(16).toString("hex"), job.rounds);
      dummies.set(job.rounds, hash);
    }
    // Always compare, also for an unknown user: the time taken must not tell which names exist.
    const matches = bcrypt.compareSync(job.password, hash);
    return { id: job.id, ok: matches && job.hash !== undefined };
  } catch {
    // bcryptjs's message could quote its input; the main thread only needs to know it failed.
    return { id: job.id, ok: false, failed: true };
  }
}
