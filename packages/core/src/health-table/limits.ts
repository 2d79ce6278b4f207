import type { TargetConfig } from "../config/types.js";

/** Server-side limits of a target's session, in milliseconds (see {@link serverLimits}). */
export interface ServerLimits {
  /** Longest a statement may run on the server: 90 % of the longer of the read and write deadlines. */
  statementMs: number;
  /** Longest a lock may be waited for: 80 % of the write deadline. */
  lockMs: number;
}

/**
 * The one policy for server-side limits: a statement ends on the server a little before the
 * longest phase deadline (`0.9 × max(read, write)`) and a lock wait a little before the write
 * deadline (`0.8 × write`), so a locked or slow server answers with its reason instead of costing
 * us the connection. A read blocked longer than its own deadline meets core's deadline instead
 * (cancel plus a new connection). Drivers round to what their setting takes.
 *
 * @example
 * ```ts
 * serverLimits({ readTimeout: 2000, writeTimeout: 2000 }); // { statementMs: 1800, lockMs: 1600 }
 * ```
 */
export function serverLimits(timeouts: Pick<TargetConfig, "readTimeout" | "writeTimeout">): ServerLimits {
  return { statementMs: 0.9 * Math.max(timeouts.readTimeout, timeouts.writeTimeout), lockMs: 0.8 * timeouts.writeTimeout };
}
