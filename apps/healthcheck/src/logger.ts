import { errorMessage, redact } from "@alfred/db-health-core";

/** Severity of a log line. */
export type Level = "debug" | "info" | "warn" | "error";

/** A structured logger writing one JSON object per line. */
export interface Logger {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
}

/**
 * JSON-lines logger on stderr. Every string value passes through core's `redact`, so a DSN or
 * a client error that slipped into a field still never prints a password.
 *
 * @example
 * ```ts
 * createLogger(process.stderr).log("info", "probe", { target: "db", status: "up" });
 * ```
 */
export function createLogger(out: { write(chunk: string): unknown }, minLevel: Level = "info"): Logger {
  const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
  return {
    log(level, msg, fields = {}) {
      if (order[level] < order[minLevel]) return;
      const line: Record<string, unknown> = { time: new Date().toISOString(), level, msg: redact(msg) };
      for (const [key, value] of Object.entries(fields)) line[key] = clean(value);
      out.write(`${JSON.stringify(line)}\n`);
    },
  };
}

function clean(value: unknown): unknown {
  if (typeof value === "string") return redact(value);
  if (value instanceof Error) return errorMessage(value);
  if (Array.isArray(value)) return value.map(clean);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v)]));
  }
  return value;
}
