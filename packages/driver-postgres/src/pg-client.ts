import pg from "pg";
import type { SslAttempt } from "./postgres-options.js";

/** The pieces of pg's Client the driver reaches into beyond its typed API. */
export type RawClient = pg.Client & { processID?: number | null; secretKey?: number | Buffer | null; connection?: { stream?: { destroy(): void; remoteAddress?: string; remotePort?: number } } };

/** A graceful end waits for the server; a hung server must not hang close(), so it is bounded. */
export async function endOrKill(c: RawClient, timeoutMs = 1000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    c.end().catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
  ]);
  clearTimeout(timer);
  kill(c);
}

/** Destroys the client's socket at once. */
export function kill(c: RawClient): void {
  try {
    c.connection?.stream?.destroy();
  } catch {
    // already gone
  }
}

/** sslmode=prefer/allow: retry the other way only when the server refused this way. */
export function shouldFallBack(err: unknown, tried: SslAttempt, attempts: readonly SslAttempt[]): boolean {
  if (attempts.length < 2 || attempts[attempts.length - 1] === tried) return false;
  const message = err instanceof Error ? err.message : "";
  return tried ? /does not support SSL/i.test(message) : /no encryption|SSL off|hostssl/i.test(message) || (err as { code?: string }).code === "28000";
}
