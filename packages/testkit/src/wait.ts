/**
 * Polls `read` every `everyMs` until `ok` accepts its value, and returns that value; throws
 * after `timeoutMs` with the last value seen. For conditions that become true on their own
 * (replication catching up, a server restarting), never for timing assertions.
 *
 * @example
 * ```ts
 * const r = await waitFor("the replica to report lag", () => driver.probe(), (x) => x.lagSeconds !== undefined);
 * ```
 */
export async function waitFor<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    value = await read();
  }
  return value;
}

/**
 * Resolves when `work` does, or rejects with `message` after `ms`: for something that must
 * happen within a generous bound (an event), never for timing assertions.
 *
 * @example
 * ```ts
 * await within(2000, heard, "no onConnectionLost event within 2 s");
 * ```
 */
export async function within(ms: number, work: Promise<unknown>, message: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
