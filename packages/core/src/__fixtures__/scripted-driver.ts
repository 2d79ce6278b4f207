import type { DriverAdapter } from "../contract/driver-adapter.js";
import type { DriverDefinition } from "../contract/driver-definition.js";
import type { RoleInfo } from "../contract/types.js";

/**
 * An in-memory adapter whose behaviour each test scripts. It stands in for a driver, not for a
 * database client: it exercises core's cycle semantics against the DriverAdapter contract.
 */
export interface Script {
  connect?: () => Promise<void>;
  ping?: () => Promise<void>;
  role?: () => Promise<RoleInfo>;
  write?: (token: string) => Promise<void>;
  read?: (stored: string | undefined) => Promise<string | undefined>;
  connections?: () => Promise<number>;
  /** The adapter has `check()` only when this is scripted (custom checks). */
  check?: (sql: string, timeoutMs: number) => Promise<unknown>;
  /** Issue 19; the adapter has these methods only when scripted. */
  connectionLimit?: () => Promise<number>;
  certificateExpiry?: () => number | undefined;
}

export interface ScriptState {
  stored: string | undefined;
  calls: string[];
  destroyed: number;
}

export function scriptedDefinition(script: Script = {}, state: ScriptState = { stored: undefined, calls: [], destroyed: 0 }): DriverDefinition & { state: ScriptState } {
  return {
    name: "scripted",
    schemes: ["scripted"],
    state,
    createAdapter(): DriverAdapter {
      const capacity: Pick<DriverAdapter, "connectionLimit" | "certificateExpiry"> = {};
      const { connectionLimit, certificateExpiry } = script;
      if (connectionLimit) {
        capacity.connectionLimit = async () => {
          state.calls.push("connectionLimit");
          return connectionLimit();
        };
      }
      if (certificateExpiry) capacity.certificateExpiry = certificateExpiry;
      const adapter: DriverAdapter = {
        ...capacity,
        connect: async () => {
          state.calls.push("connect");
          await script.connect?.();
        },
        ping: async () => {
          state.calls.push("ping");
          await script.ping?.();
        },
        role: async () => {
          state.calls.push("role");
          return script.role ? script.role() : { role: "primary", readOnly: false };
        },
        write: async (token) => {
          state.calls.push("write");
          await script.write?.(token);
          state.stored = token;
        },
        read: async () => {
          state.calls.push("read");
          return script.read ? script.read(state.stored) : state.stored;
        },
        connections: async () => {
          state.calls.push("connections");
          return script.connections ? script.connections() : 3;
        },
        close: async () => {
          state.calls.push("close");
        },
        destroy: () => {
          state.destroyed++;
        },
      };
      const check = script.check;
      if (check) {
        adapter.check = async (sql, _signal, timeoutMs) => {
          state.calls.push(`check ${sql}`);
          return check(sql, timeoutMs);
        };
      }
      return adapter;
    },
  };
}
