/**
 * `@alfred/db-health-core`: the driver contract, the registry, DSN parsing and redaction, the
 * probe runner and the Prometheus metrics of db-health. It imports no database client.
 *
 * @example
 * ```ts
 * import "@alfred/db-health-driver-sqlite"; // self-registers file: and sqlite: DSNs
 * import { createDriver, createMetrics } from "@alfred/db-health-core";
 *
 * const driver = createDriver({ dsn: "file:/var/lib/app/app.db" });
 * const metrics = createMetrics();
 * metrics.observe(await driver.probe());
 * ```
 */
export type { CheckResult, Phase, PhaseResult, Role, RoleInfo, Status } from "./contract/types.js";
export { TIMED_PHASES } from "./contract/types.js";
export { DbHealthError, errorMessage, isDbHealthError, redactError, type DbHealthErrorOptions, type ErrorKind } from "./contract/errors.js";
export { showable } from "./contract/terminal-text.js";
export { REDACTED, createRedactor, redact } from "./redact/redact.js";
export { describeDsn, dsnScheme, dsnSecrets, parseDsn, redactDsn, type DsnForm, type ParsedDsn } from "./dsn/dsn.js";
export { formatDuration, parseDuration } from "./config/duration-syntax.js";
export { TARGET_KEYS } from "./config/types.js";
export { FILE_LIMITS, checkFileSync, fileKind, formatBytes, notRegular, readFileLimited, readFileSyncLimited, UnreadableFile, type FileLimit } from "./config/read-file.js";
export {
  DEFAULTS,
  engineForScheme,
  resolveTargetConfig,
  resolveTargetConfigs,
  type CustomCheckConfig,
  type CustomCheckOptions,
  type TargetConfig,
  type TargetOptions,
} from "./config/resolve.js";
export {
  checkTargetConfigs,
  formatProblems,
  type CheckOptions,
  type CheckedSettings,
  type CheckedTarget,
  type ConfigProblem,
  type TargetCheck,
} from "./config/check.js";
export { isResolvedTarget, planTargets, retarget, type ResolvedTarget } from "./config/target-plan.js";
export type { DriverAdapter } from "./contract/driver-adapter.js";
export { guardAdapter } from "./contract/adapter-guard.js";
export type { AdapterTarget, DriverCapabilities, DriverDefinition } from "./contract/driver-definition.js";
export { DriverRegistry, driverRegistry, registerDriver } from "./contract/registry.js";
export { sleep, withDeadline, type DeadlineOptions } from "./probe/deadline.js";
export { onAbort } from "./probe/on-abort.js";
export type { ProbeResult } from "./contract/probe-result.js";
export { createDriver, type ConnectionLostEvent, type CreateDriverOptions, type Driver, type ProbeOptions } from "./probe/driver.js";
export { TOKEN_HISTORY_LENGTH, healthToken, holdsToken, isCrowded } from "./health-table/health-token.js";
export type { ClassifiedError, DialectCall, DialectTarget, HealthTableDialect, RoleContext, TableCheck } from "./health-table/dialect.js";
export { PRUNE_EVERY_MS, healthTableAdapter } from "./health-table/protocol.js";
export { defineDriver, type DialectDriverDefinition } from "./health-table/define-driver.js";
export { serverLimits, type ServerLimits } from "./health-table/limits.js";
export { peerCertificateExpiry } from "./health-table/peer-certificate.js";
export { socketPeer, type ConnectionPeer } from "./health-table/connection-peer.js";
export { createMetrics, type DbHealthMetrics, type DeclaredTarget, type MetricsOptions } from "./metrics/metrics.js";
export { applyClusterView, clusterViews, type ClusterMember, type ClusterState, type ClusterView } from "./cluster/cluster-view.js";
export { registerClusterMetrics } from "./metrics/cluster-metrics.js";
export { CORE_VERSION } from "./version.js";
