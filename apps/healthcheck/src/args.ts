/**
 * Small pieces of the command line that main.ts and the config resolver share. The command line
 * itself is parsed and merged with the environment and the YAML file by `resolveCli()` in
 * config/resolve.ts.
 */
import { DbHealthError } from "@alfred/db-health-core";

/**
 * Thrown by `resolveCli()` for `--help` / `--version`: the text was printed, exit 0.
 *
 * @example
 * ```ts
 * try { await resolveCli(argv, env, version); } catch (err) { if (err instanceof HelpShown) return 0; throw err; }
 * ```
 */
export class HelpShown extends Error {
  override readonly name = "HelpShown";
  constructor() {
    super("help or version shown");
  }
}

/** A listen address: `host` undefined means every interface. */
export interface ListenAddress {
  host: string | undefined;
  port: number;
}

/**
 * Splits `[host]:port` as the original design writes it, or returns `undefined` when the text
 * is not one (ports 0–65535; 0 picks a free port, for tests).
 *
 * @example
 * ```ts
 * readListen(":9091");        // { host: undefined, port: 9091 }
 * readListen("[::1]:9100");   // { host: "::1", port: 9100 }
 * readListen("localhost");    // undefined
 * ```
 */
export function readListen(value: string): ListenAddress | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*))?:(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) return undefined;
  return { host: m[1] ?? (m[2] || undefined), port };
}

/**
 * {@link readListen} for a value that must be valid.
 *
 * @throws {DbHealthError} kind `"config"` naming `source` and the expected form.
 * @example
 * ```ts
 * parseListen("127.0.0.1:9091"); // { host: "127.0.0.1", port: 9091 }
 * ```
 */
export function parseListen(value: string, source = "--export-prom"): ListenAddress {
  const listen = readListen(value);
  if (!listen) throw new DbHealthError("config", `${source}: ${JSON.stringify(value)} ${LISTEN_HINT}`);
  return listen;
}

/** What a listen address should look like, for messages. */
export const LISTEN_HINT = "is not [host]:port, e.g. :9091 or 127.0.0.1:9091";
