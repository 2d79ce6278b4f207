import type { DriverAdapter, DriverDefinition } from "@alfred/db-health-core";

/** Calls recorded by {@link wrapDefinition}. */
export interface AdapterSpy {
  destroyed: number;
  closed: number;
  connects: number;
}

/**
 * Wraps a driver definition so each adapter it creates can be altered: the suite uses it to
 * make a real adapter hang or lie, to prove that core's deadlines and token checks work
 * around any driver. Only the named methods change; the rest talk to the real database.
 *
 * @example
 * ```ts
 * const hanging = wrapDefinition(driver, (a) => ({ ping: () => new Promise(() => {}) }));
 * ```
 */
export function wrapDefinition(
  definition: DriverDefinition,
  override: (real: DriverAdapter) => Partial<DriverAdapter>,
  spy: AdapterSpy = { destroyed: 0, closed: 0, connects: 0 },
): { definition: DriverDefinition; spy: AdapterSpy } {
  const wrapped: DriverDefinition = {
    ...definition,
    createAdapter(target) {
      const real = definition.createAdapter(target);
      const base: DriverAdapter = {
        connect: (s) => {
          spy.connects++;
          return real.connect(s);
        },
        ping: (s) => real.ping(s),
        role: (s) => real.role(s),
        write: (t, s) => real.write(t, s),
        read: (s) => real.read(s),
        close: () => {
          spy.closed++;
          return real.close();
        },
        destroy: () => {
          spy.destroyed++;
          if (real.destroy) real.destroy();
          else void real.close().catch(() => undefined);
        },
      };
      if (real.connections) base.connections = (s) => real.connections!(s);
      return { ...base, ...override(real) };
    },
  };
  return { definition: wrapped, spy };
}
