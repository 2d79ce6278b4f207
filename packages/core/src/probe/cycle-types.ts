/** What one probe cycle takes and gives (see `runCycle`). */
import type { TargetConfig } from "../config/types.js";
import type { DbHealthError } from "../contract/errors.js";
import type { ProbeResult } from "../contract/probe-result.js";
import type { Role } from "../contract/types.js";
import type { CycleBudget } from "./cycle-budget.js";

/** What a cycle needs besides the session. */
export interface CycleInput {
  config: TargetConfig;
  driverName: string;
  endpoint: string;
  /** Last role seen for this target, kept across down cycles so labels stay stable. */
  lastRole: Role;
  /** `reachability` stops after connect + ping (for `Driver.connect()`/`ping()`). @default "full" */
  scope?: "reachability" | "full";
  signal?: AbortSignal;
  /** Time for the whole cycle, retries included (a scrape timeout). @default none */
  budget?: CycleBudget;
}

/** A cycle's result and the error behind its main problem, for `Driver` methods that throw. */
export interface CycleOutcome {
  result: ProbeResult;
  error?: DbHealthError;
}
