import { DbHealthError } from "./errors.js";
import { describeValue } from "./describe-value.js";
import type { DriverAdapter } from "./driver-adapter.js";
import type { DriverDefinition } from "./driver-definition.js";
import type { RoleInfo } from "./types.js";

const REQUIRED = ["connect", "ping", "role", "write", "read", "close"] as const;
const OPTIONAL = ["connections", "connectionLimit", "certificateExpiry", "check", "connected", "peer", "destroy"] as const;
const ROLES = new Set(["primary", "replica", "unknown"]);

/**
 * Checks what a plugin's `createAdapter()` returned and what its methods answer, so that a
 * driver breaking the {@link DriverAdapter} contract gives a `contract` error naming the driver
 * and the rule, never a crash or a bogus label: missing methods throw here; a `role()`, `read()`
 * or `connections()` answer of the wrong shape makes that phase fail with the reason.
 * `createDriver` applies it to every adapter; the testkit uses it to call adapters directly.
 *
 * @example
 * ```ts
 * const adapter = guardAdapter(definition.createAdapter(target), definition);
 * await adapter.role(signal); // rejects: 'pglite: role() returned { role: "master" }: role must be …'
 * ```
 */
export function guardAdapter(adapter: unknown, definition: Pick<DriverDefinition, "name" | "packageName">): DriverAdapter {
  const who = definition.packageName ? `${definition.name} (${definition.packageName})` : definition.name;
  const violation = (text: string): DbHealthError => new DbHealthError("contract", `${who}: ${text}`, { driver: definition.name });
  if (adapter === null || typeof adapter !== "object") throw violation(`createAdapter() returned ${describeValue(adapter)}, not an adapter object`);
  const a = adapter as Record<string, unknown>;
  const missing = REQUIRED.filter((m) => typeof a[m] !== "function");
  const wrong = OPTIONAL.filter((m) => a[m] !== undefined && typeof a[m] !== "function");
  if (missing.length > 0 || wrong.length > 0) {
    const parts = [
      ...(missing.length > 0 ? [`has no ${missing.map((m) => `${m}()`).join(", ")}`] : []),
      ...(wrong.length > 0 ? [`${wrong.map((m) => `${m}`).join(", ")} must be a method when present`] : []),
    ];
    throw violation(`the adapter from createAdapter() ${parts.join("; ")}`);
  }
  const real = adapter as DriverAdapter;
  const guarded: DriverAdapter = {
    connect: (s) => real.connect(s),
    ping: (s) => real.ping(s),
    role: async (s) => {
      const info = await real.role(s);
      const problem = roleProblem(info);
      if (problem) throw violation(`role() returned ${show(info)}: ${problem}`);
      return info;
    },
    write: (token, s) => real.write(token, s),
    read: async (s) => {
      const token = await real.read(s);
      if (token !== undefined && typeof token !== "string") {
        throw violation(`read() returned ${show(token)}: return the stored token string, or undefined when this prober has no row`);
      }
      return token;
    },
    close: () => real.close(),
  };
  if (real.connections) {
    guarded.connections = async (s) => {
      const n = await real.connections!(s);
      if (!Number.isInteger(n) || n < 0) throw violation(`connections() returned ${show(n)}: return a whole number of connections`);
      return n;
    };
  }
  if (real.connectionLimit) {
    guarded.connectionLimit = async (s) => {
      const n = await real.connectionLimit!(s);
      if (!Number.isInteger(n) || n <= 0) throw violation(`connectionLimit() returned ${show(n)}: return the server's limit, a whole number above 0`);
      return n;
    };
  }
  if (real.certificateExpiry) {
    // Read from the socket, outside any phase: an answer of the wrong shape or a throw says nothing.
    guarded.certificateExpiry = () => {
      try {
        const at = real.certificateExpiry!();
        return typeof at === "number" && Number.isFinite(at) ? at : undefined;
      } catch {
        return undefined;
      }
    };
  }
  if (real.check) guarded.check = (sql, s, timeoutMs) => real.check!(sql, s, timeoutMs);
  if (real.connected) guarded.connected = () => real.connected!();
  if (real.peer) {
    // Read from the socket before a cycle: an answer of the wrong shape or a throw says nothing.
    guarded.peer = () => {
      try {
        const p: unknown = real.peer!();
        const { host, address } = (p ?? {}) as { host?: unknown; address?: unknown };
        return typeof host === "string" && host !== "" && typeof address === "string" && address !== "" ? { host, address } : undefined;
      } catch {
        return undefined;
      }
    };
  }
  if (real.destroy) guarded.destroy = () => real.destroy!();
  return guarded;
}

function roleProblem(info: unknown): string | undefined {
  if (info === null || typeof info !== "object") return 'return { role: "primary" | "replica" | "unknown", readOnly: boolean }';
  const r = info as Partial<Record<keyof RoleInfo, unknown>>;
  const problems: string[] = [];
  if (typeof r.role !== "string" || !ROLES.has(r.role)) problems.push('role must be "primary", "replica" or "unknown"');
  if (typeof r.readOnly !== "boolean") problems.push("readOnly must be a boolean");
  if (r.lagSeconds !== undefined && (typeof r.lagSeconds !== "number" || !Number.isFinite(r.lagSeconds) || r.lagSeconds < 0)) {
    problems.push("lagSeconds must be a number of seconds, 0 or more");
  }
  if (r.detail !== undefined && typeof r.detail !== "string") problems.push("detail must be a string");
  if (r.warnings !== undefined && !(Array.isArray(r.warnings) && r.warnings.every((w) => typeof w === "string"))) problems.push("warnings must be a list of strings");
  return problems.length > 0 ? problems.join("; ") : undefined;
}

// Objects are shown by their scalar fields (a role answer is small); anything else as describeValue does.
function show(value: unknown): string {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return describeValue(value);
  const fields = Object.entries(value).map(([k, v]) => `${k}: ${v !== null && typeof v === "object" ? (Array.isArray(v) ? "[…]" : "{…}") : describeValue(v)}`);
  return `{ ${fields.join(", ")} }`;
}
