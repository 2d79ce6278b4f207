/** Per signal: the callbacks its one listener calls, in the order they were added, and that listener. */
const fanOuts = new WeakMap<AbortSignal, { callbacks: Set<() => void>; listener: () => void }>();

/**
 * Calls `fn` once when `signal` aborts, through a single listener per signal shared by every
 * caller. Node's `EventTarget` compares each listener added or removed with every one it holds,
 * so a signal that each target of a daemon waits on (shutdown) cost O(targets) per sleep and per
 * phase deadline; here adding and removing are O(1). Returns the function that takes `fn` back
 * (call it when the work ends first); the listener goes with the last callback, so a signal that
 * Node keeps alive while it is listened to (`AbortSignal.any`, `AbortSignal.timeout`) is not kept
 * alive by this. A signal that has already aborted calls nothing: check `signal.aborted` first.
 * The callbacks run, in the order they were added, where the first one's listener was added.
 *
 * @example
 * ```ts
 * const timer = setTimeout(done, 5000);
 * const forget = onAbort(shutdown.signal, () => clearTimeout(timer));
 * // the work ended first:
 * forget();
 * ```
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let fanOut = fanOuts.get(signal);
  if (!fanOut) {
    const callbacks = new Set<() => void>();
    const listener = (): void => {
      fanOuts.delete(signal);
      // Every callback runs even if one throws (the first error is thrown afterwards, where a
      // listener's own would have surfaced); one taken back by an earlier one does not.
      let failure: { error: unknown } | undefined;
      for (const f of [...callbacks]) {
        if (!callbacks.has(f)) continue;
        try {
          f();
        } catch (error) {
          failure ??= { error };
        }
      }
      callbacks.clear();
      if (failure) throw failure.error;
    };
    fanOut = { callbacks, listener };
    fanOuts.set(signal, fanOut);
    signal.addEventListener("abort", listener, { once: true });
  }
  const { callbacks, listener } = fanOut;
  callbacks.add(fn);
  return () => {
    if (!callbacks.delete(fn) || callbacks.size > 0 || fanOuts.get(signal)?.listener !== listener) return;
    fanOuts.delete(signal);
    signal.removeEventListener("abort", listener);
  };
}
