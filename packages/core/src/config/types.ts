/** What a target's configuration looks like, as written ({@link TargetOptions}) and resolved ({@link TargetConfig}). */

/**
 * Defaults applied to every field a target leaves out (durations in milliseconds).
 *
 * @example
 * ```ts
 * const timeout = options.connectTimeout ?? DEFAULTS.connectTimeout; // 5000
 * ```
 */
export const DEFAULTS = Object.freeze({
  role: "auto",
  connectTimeout: 5000,
  readTimeout: 2000,
  writeTimeout: 2000,
  maxRetries: 3,
  retryInterval: 1000,
  interval: 15_000,
  createHealthTable: true,
  writeCheck: "auto",
  connection: "persistent",
  healthTable: "_health_check",
  pruneAfter: 86_400_000,
} as const);

/**
 * One target as users write it (YAML, flags, env, library calls). Durations are
 * `"500ms"`, `"2s"`, `"1m30s"`… or a number of milliseconds.
 *
 * @example
 * ```ts
 * const options: TargetOptions = { dsn: "postgres://app@db:5432/app", readTimeout: "1s" };
 * ```
 */
export interface TargetOptions {
  /** Database to probe, in any DSN form core understands. Required. */
  dsn: string;
  /**
   * Name used in the `target` metric label and `/probe?target=`: 1–63 of `A-Z a-z 0-9 _ . : -`,
   * starting with a letter or digit.
   * @default the engine (`postgres`, `mysql`, `sqlite`, `mssql`…), then `-2`, `-3`… when several targets share one
   */
  name?: string;
  /**
   * Role this node is expected to have; `auto` accepts whatever the database reports.
   * @default "auto"
   */
  role?: "primary" | "replica" | "auto";
  /**
   * Cluster this target is a member of (same characters as `name`). The members of a cluster are
   * the targets with the same `cluster`; more than one detected primary among them makes every
   * member that is not down `degraded`. Per target only: not in `defaults:`, flags or modules.
   * @default none (the target belongs to no cluster)
   */
  cluster?: string;
  /**
   * Deadline for establishing a connection (more than 0, at most 10m).
   * @default "5s"
   */
  connectTimeout?: string | number;
  /**
   * Deadline for ping, role detection and the read-back (more than 0, at most 10m).
   * @default "2s"
   */
  readTimeout?: string | number;
  /**
   * Deadline for writing the health row (more than 0, at most 10m).
   * @default "2s"
   */
  writeTimeout?: string | number;
  /**
   * Extra connect/ping attempts before the target is `down` (whole number, 0–100).
   * @default 3
   */
  maxRetries?: number;
  /**
   * Pause between those attempts (at most 10m).
   * @default "1s"
   */
  retryInterval?: string | number;
  /**
   * Time between probe cycles (at least 100ms, at most 24h).
   * @default "15s"
   */
  interval?: string | number;
  /**
   * Create the health table when it is missing.
   * @default true
   */
  createHealthTable?: boolean;
  /**
   * When to write: `auto` writes only where the role allows it, `always` treats a refused
   * write as degraded, `never` only reads.
   * @default "auto"
   */
  writeCheck?: "auto" | "always" | "never";
  /**
   * `persistent` keeps the target's one connection open between cycles; `per-cycle` opens it
   * for each cycle and closes it after, so an idle prober holds no connection, file handle or
   * memory for the target (more work per cycle: a connect, and for SQLite the open checks).
   * @default "persistent"
   */
  connection?: "persistent" | "per-cycle";
  /**
   * Latencies above which the target is `degraded`; each must stay below its phase's timeout.
   * @default {} (no thresholds)
   */
  thresholds?: {
    /** Ping latency threshold (at most 10m); below `readTimeout`. @default none */
    pingLatency?: string | number;
    /** Read latency threshold (at most 10m); below `readTimeout`. @default none */
    readLatency?: string | number;
    /** Write latency threshold (at most 10m); below `writeTimeout`. @default none */
    writeLatency?: string | number;
  };
  /**
   * Replication lag above which a replica is `degraded` (at most 576h, i.e. 24 days).
   * @default none (lag is reported, never judged)
   */
  maxReplicationLag?: string | number;
  /**
   * This prober's row key in the health table: 1–128 printable characters.
   * @default `${os.hostname()}/${name}`
   */
  probeId?: string;
  /**
   * Health table name (letters, digits, `_`; not starting with a digit; at most 63).
   * @default "_health_check"
   */
  healthTable?: string;
  /**
   * Schema holding the health table (same rule as `healthTable`).
   * @default none (the connection's default schema; `dbo` on SQL Server)
   */
  schema?: string;
  /**
   * Rows of other probers whose last check is older than this are deleted when this prober
   * writes, so that the health table holds only live probers even when probe ids change (pod
   * names in Kubernetes). At least 1m, at most 576h (24 days), and at least twice `interval`
   * so that peers probing as often as this one never lose their row.
   * @default "24h"
   */
  pruneAfter?: string | number;
  /**
   * Custom read-only checks run after the read-back in every cycle that reached the database
   * (at most 32, names unique): each query's first column of its first row is exported as
   * `db_check_value`, and a check that fails, or whose value is outside `min`/`max`, makes the
   * target `degraded`.
   * @default [] (no checks)
   */
  checks?: CustomCheckOptions[];
}

/**
 * One custom check as users write it: a read-only query whose first value must be a number,
 * optionally within bounds.
 *
 * @example
 * ```ts
 * const backlog: CustomCheckOptions = { name: "backlog", query: "SELECT count(*) FROM jobs WHERE state = 'queued'", max: 1000 };
 * ```
 */
export interface CustomCheckOptions {
  /** The `check` label: 1–63 of `a-z 0-9 _`, starting with a letter, unique per target. */
  name: string;
  /**
   * One SQL statement (at most 10,000 characters), run read-only: the first column of its first
   * row is the value (a number, a numeric string or a boolean).
   */
  query: string;
  /** Lowest value that passes (a finite number, at most `max`). @default none */
  min?: number;
  /** Highest value that passes (a finite number, at least `min`). @default none */
  max?: number;
  /** Deadline of the query (more than 0, at most 10m). @default the target's `readTimeout` */
  timeout?: string | number;
}

/**
 * One custom check, validated: its timeout in milliseconds.
 *
 * @example
 * ```ts
 * const [backlog] = resolveTargetConfig({ dsn: "file:app.db", checks: [{ name: "backlog", query: "SELECT 1" }] }).checks;
 * backlog.timeout; // 2000 (the readTimeout)
 * ```
 */
export interface CustomCheckConfig {
  readonly name: string;
  readonly query: string;
  readonly min?: number;
  readonly max?: number;
  /** Deadline in ms. @default the target's readTimeout */
  readonly timeout: number;
}

/**
 * A validated target with every default applied; durations in milliseconds, each at most
 * 2^31-1 so that any of them is safe to hand to `setTimeout`.
 *
 * @example
 * ```ts
 * const config: TargetConfig = resolveTargetConfig({ dsn: "file:app.db" });
 * config.readTimeout; // 2000
 * ```
 */
export interface TargetConfig {
  /** Target name, explicit or derived from the engine. */
  name: string;
  /** The DSN as given (unredacted: never log it, use `redactDsn`). */
  dsn: string;
  /** Expected role. @default "auto" */
  role: "primary" | "replica" | "auto";
  /** Cluster the target is a member of. @default none */
  cluster?: string;
  /** Connect deadline in ms. @default 5000 */
  connectTimeout: number;
  /** Ping/role/read deadline in ms. @default 2000 */
  readTimeout: number;
  /** Write deadline in ms. @default 2000 */
  writeTimeout: number;
  /** Extra connect/ping attempts. @default 3 */
  maxRetries: number;
  /** Pause between attempts in ms. @default 1000 */
  retryInterval: number;
  /** Time between cycles in ms. @default 15000 */
  interval: number;
  /** Create the health table when missing. @default true */
  createHealthTable: boolean;
  /** When to write. @default "auto" */
  writeCheck: "auto" | "always" | "never";
  /** Keep the connection between cycles, or open and close it in each. @default "persistent" */
  connection: "persistent" | "per-cycle";
  /** Latency thresholds in ms; a missing key means no threshold. @default {} */
  thresholds: { pingLatency?: number; readLatency?: number; writeLatency?: number };
  /** Lag threshold in ms. @default none */
  maxReplicationLag?: number;
  /** Row key in the health table. @default `${os.hostname()}/${name}` */
  probeId: string;
  /** Health table name. @default "_health_check" */
  healthTable: string;
  /** Schema of the health table. @default none */
  schema?: string;
  /**
   * Age in ms after which drivers delete other probers' rows (`checked_at` older than
   * now − pruneAfter) when they write their own. @default 86400000 (24h)
   */
  pruneAfter: number;
  /** Custom read-only checks, in the order they run. @default [] */
  checks: ReadonlyArray<CustomCheckConfig>;
}

/**
 * Every key of {@link TargetOptions}, in the order validation reports problems and help lists them.
 *
 * @example
 * ```ts
 * const unknown = Object.keys(input).filter((k) => !(TARGET_KEYS as readonly string[]).includes(k));
 * ```
 */
export const TARGET_KEYS = [
  "dsn",
  "name",
  "role",
  "cluster",
  "connectTimeout",
  "readTimeout",
  "writeTimeout",
  "maxRetries",
  "retryInterval",
  "interval",
  "createHealthTable",
  "writeCheck",
  "connection",
  "thresholds",
  "maxReplicationLag",
  "probeId",
  "healthTable",
  "schema",
  "pruneAfter",
  "checks",
] as const satisfies ReadonlyArray<keyof TargetOptions>;

// Compile-time guard: a key added to TargetOptions must be added above.
type MissingKey = Exclude<keyof TargetOptions, (typeof TARGET_KEYS)[number]>;
const complete: MissingKey extends never ? true : MissingKey = true;
void complete;
