import { pino, type Logger as Pino } from "pino";
import { errorMessage, redact } from "@alfred/db-health-core";
import { LogSink } from "./log-sink.js";

/** Severity of a log line. */
export type Level = "debug" | "info" | "warn" | "error";

/** A structured logger writing one JSON object per line. */
export interface Logger {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
  /** Whether lines of this level are written (skip building fields that would be dropped). */
  enabled(level: Level): boolean;
}

/**
 * JSON-lines logger on pino. Every string in the message and the fields passes through core's
 * `redact` first, so a DSN or a client error that slipped into a field never prints a password.
 * A descriptor goes through a {@link LogSink}: each line is written at once, so nothing is lost
 * when the process exits right after, but never waited for: a reader that stops reading or a
 * full disk costs log lines (counted, and said), never the process.
 *
 * @example
 * ```ts
 * createLogger(process.stderr).log("info", "probe", { target: "db", status: "up" });
 * ```
 */
export function createLogger(out: { write(chunk: string): unknown } | number = 2, minLevel: Level = "info"): Logger {
  const destination = typeof out === "number" ? new LogSink(out) : out;
  const logger: Pino = pino(
    {
      level: minLevel,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination as pino.DestinationStream,
  );
  return {
    enabled: (level) => logger.isLevelEnabled(level),
    log(level, msg, fields = {}) {
      if (!logger.isLevelEnabled(level)) return;
      logger[level](clean(fields) as Record<string, unknown>, redact(msg));
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
