import { performance } from "node:perf_hooks";
import { DbHealthError, isDbHealthError, redactError } from "../contract/errors.js";
import { createRedactor } from "../redact/redact.js";
import type { AdapterTarget } from "../contract/driver-definition.js";
import type { DriverAdapter } from "../contract/driver-adapter.js";
import type { ErrorKind } from "../contract/errors.js";
import type { ClassifiedError, DialectCall, DialectTarget, HealthTableDialect } from "./dialect.js";

/** How often the prune statement runs: rows older than `pruneAfter` (≥ 1 min) go within a minute. */
export const PRUNE_EVERY_MS = 60_000;

/** The kinds a dialect's `classifyError` may give; anything else falls back to the phase's. */
const KINDS: ReadonlySet<string> = new Set<ErrorKind>(["connect", "auth", "timeout", "query", "permission", "readonly", "verify", "contract", "config"]);

/** Why the table is not created on a replica; the write's error says it when the table is missing. */
const ON_REPLICA = "the node reports replica status, where the table is never created: create it on the primary";

/**
 * The health-table protocol, once for every engine: turns a driver's {@link HealthTableDialect}
 * into the adapter core runs. At connect it checks the catalog and creates the table when it is
 * missing, `createHealthTable` allows it and the node is no replica, remembering why CREATE
 * failed; a write that finds the table gone creates it again when allowed and writes once more,
 * and otherwise says why it cannot be created; after a write, the rows of other probers older
 * than `pruneAfter` are deleted, at most once a minute and best effort (a role without DELETE
 * still passes); a replica or read-only node without the table proves it reads from the
 * catalog; a connection that completed after its deadline is closed; every error goes through
 * the dialect's `classifyError` and this target's redaction.
 *
 * @example
 * ```ts
 * export const fooDriver = defineDriver({ name: "foo", schemes: ["foo"], createDialect: createFooDialect });
 * // or, by hand: createAdapter: (target) => healthTableAdapter(target, createFooDialect)
 * ```
 */
export function healthTableAdapter(target: AdapterTarget, createDialect: (target: DialectTarget) => HealthTableDialect): DriverAdapter {
  const { config } = target;
  const dialect = createDialect({ ...target, lost: (err) => target.connectionLost?.(toError(err, "connection").message) });
  const extra = createRedactor(dialect.secrets ?? []);
  const redact = (text: string): string => extra(target.redact(text));
  let hasTable = false;
  let replica = false;
  let readOnly = false;
  // Why CREATE TABLE failed, so a later "table does not exist" says the real cause.
  let createError: unknown;
  let lastPrune = 0;

  /**
   * The dialect's hook, kept from doing harm: one that throws or answers something else than a
   * ClassifiedError counts as saying nothing, so the client's own error is reported (and a lost
   * connection never becomes an uncaught exception in a client's event handler).
   */
  function classify(err: unknown, phase: string): ClassifiedError {
    let c: unknown;
    try {
      c = dialect.classifyError(err, phase);
    } catch {
      return {};
    }
    if (c === null || typeof c !== "object") return {};
    const { kind, message, tableMissing } = c as Record<string, unknown>;
    return {
      ...(typeof kind === "string" && KINDS.has(kind) ? { kind: kind as ErrorKind } : {}),
      ...(typeof message === "string" && message !== "" ? { message } : {}),
      tableMissing: tableMissing === true,
    };
  }
  function toError(err: unknown, phase: string): DbHealthError {
    if (isDbHealthError(err)) return err;
    const c = classify(err, phase);
    const message = c.message ?? (err instanceof Error ? err.message || err.name : String(err));
    return new DbHealthError(c.kind ?? (phase === "connect" ? "connect" : "query"), redact(message), { driver: dialect.driver, cause: redactError(err, redact) });
  }
  const missing = (err: unknown, phase: string): boolean => !isDbHealthError(err) && classify(err, phase).tableMissing === true;
  const call = (signal: AbortSignal, timeoutMs: number): DialectCall => ({ signal, deadline: performance.now() + timeoutMs });
  /** Runs `fn`, mapping what it throws. */
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toError(err, name);
    }
  };

  /** CREATE TABLE when missing, allowed and not on a replica; remembers why it failed. */
  const createTable = async (c: DialectCall): Promise<boolean> => {
    createError = undefined;
    if (hasTable || !config.createHealthTable) return hasTable;
    if (replica) {
      createError = new Error(ON_REPLICA);
      return false;
    }
    try {
      await dialect.createTable(c);
      hasTable = true;
    } catch (err) {
      createError = err;
    }
    return hasTable;
  };

  const adapter: DriverAdapter = {
    connect: (signal) =>
      phase("connect", async () => {
        const c = call(signal, config.connectTimeout);
        await dialect.connect(c);
        if (signal.aborted) {
          // Core gave up on this attempt: keeping the connection would leave one behind per slow connect.
          drop();
          throw new DbHealthError("timeout", "connect completed after its deadline", { driver: dialect.driver });
        }
        readOnly = false;
        const found = await dialect.inspect(c);
        hasTable = found.exists;
        replica = found.replica ?? false;
        createError = undefined;
        if (hasTable || !config.createHealthTable) return;
        // Never created on a replica: the CREATE would be the replica's own transaction. An error
        // asking counts as no replica; role() reports it.
        if (found.replica === undefined && dialect.isReplica) replica = await dialect.isReplica(c).catch(() => false);
        // Not worth the connect deadline: a write that finds no table creates it within its own.
        await createTable({ ...c, waitForLocks: false });
      }),
    ping: (signal) => phase("ping", () => dialect.ping(call(signal, config.readTimeout))),
    role: (signal) =>
      phase("role", async () => {
        const info = await dialect.role(call(signal, config.readTimeout), { tableExists: hasTable, explain: (err) => toError(err, "role").message });
        replica = info.role === "replica";
        readOnly = info.readOnly;
        return info;
      }),
    async write(token, signal) {
      const c = call(signal, config.writeTimeout);
      try {
        try {
          await dialect.upsert(config.probeId, token, c);
        } catch (err) {
          // Dropped since we connected? Create it again when allowed, then write once more.
          if (!missing(err, "write")) throw err;
          hasTable = false;
          if (!(await createTable(c))) throw err;
          await dialect.upsert(config.probeId, token, c);
        }
        hasTable = true;
        await prune(c);
      } catch (err) {
        if (createError !== undefined && missing(err, "write")) {
          const why = toError(createError, "write");
          // CREATE waited for a lock held elsewhere: that, not the table, is what failed the write.
          if (why.kind === "timeout") throw why;
          throw new DbHealthError(why.kind, `health table ${dialect.table} is missing and cannot be created: ${why.message}`, { driver: dialect.driver, cause: why });
        }
        throw toError(err, "write");
      }
    },
    read: (signal) =>
      phase("read", async () => {
        const c = call(signal, config.readTimeout);
        try {
          return await dialect.select(config.probeId, c);
        } catch (err) {
          // A replica of a primary no prober has written to yet, or a read-only node, has no
          // table: reading the catalog still proves it serves reads.
          if (!(replica || readOnly) || !missing(err, "read")) throw err;
          await dialect.catalogRead(c);
          return undefined;
        }
      }),
    close: () => dialect.close(),
  };
  if (dialect.connections) {
    const connections = dialect.connections.bind(dialect);
    adapter.connections = (signal) => phase("connections", () => connections(call(signal, config.readTimeout)));
  }
  if (dialect.connectionLimit) {
    const limit = dialect.connectionLimit.bind(dialect);
    adapter.connectionLimit = (signal) => phase("connections", () => limit(call(signal, config.readTimeout)));
  }
  if (dialect.certificateExpiry) adapter.certificateExpiry = dialect.certificateExpiry.bind(dialect);
  if (dialect.readOnlyQuery) {
    const query = dialect.readOnlyQuery.bind(dialect);
    adapter.check = (sql, signal, timeoutMs) => phase("check", () => query(sql, call(signal, timeoutMs)));
  }
  if (dialect.connected) adapter.connected = dialect.connected.bind(dialect);
  if (dialect.peer) adapter.peer = dialect.peer.bind(dialect);
  if (dialect.destroy) adapter.destroy = dialect.destroy.bind(dialect);
  return adapter;

  /** Best effort, once a minute: a role without DELETE still passes the write check. */
  async function prune(c: DialectCall): Promise<void> {
    if (Date.now() - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = Date.now();
    await dialect.prune(config.probeId, Math.floor(config.pruneAfter / 1000), c).catch(() => undefined);
  }

  function drop(): void {
    try {
      if (dialect.destroy) dialect.destroy();
      else void dialect.close().catch(() => undefined);
    } catch {
      // destroy() must not throw; the connection is given up either way.
    }
  }
}
