import { healthTableAdapter } from "./protocol.js";
import type { DriverDefinition } from "../contract/driver-definition.js";
import type { DialectTarget, HealthTableDialect } from "./dialect.js";

/** A {@link DriverDefinition} given by its dialect instead of an adapter factory. */
export type DialectDriverDefinition = Omit<DriverDefinition, "createAdapter"> & {
  /** Creates the dialect of one target. Must not connect yet. */
  createDialect(target: DialectTarget): HealthTableDialect;
};

/**
 * A driver definition from a dialect: core runs the health-table protocol around it
 * ({@link healthTableAdapter}), so the driver writes only its engine's statements and primitives.
 *
 * @example
 * ```ts
 * export const fooDriver = defineDriver({
 *   name: "foo",
 *   packageName: "db-health-driver-foo",
 *   schemes: ["foo"],
 *   capabilities: { replication: false, server: false, authentication: false },
 *   validate: (dsn) => void fooOptions(dsn),
 *   createDialect: createFooDialect,
 * });
 * ```
 */
export function defineDriver(definition: DialectDriverDefinition): DriverDefinition & DialectDriverDefinition {
  return { ...definition, createAdapter: (target) => healthTableAdapter(target, (t) => definition.createDialect(t)) };
}
