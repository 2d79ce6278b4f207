/** Per signal: the callbacks its one listener calls, in the order they were added. */
const fanOuts = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `fn` once when `signal` aborts, through a single listener per signal shared by every
 * caller. Node's `EventTarget` compares each listener added or removed with every one it holds,
 * so a signal that each target of a daemon waits on (shutdown) cost O(targets) per sleep and per
 * phase deadline; here adding and removing are O(1). Returns the function that takes `fn` back
 * (call it when the work ends first). A signal that has already aborted calls nothing: check
 * `signal.aborted` first.
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
  let callbacks = fanOuts.get(signal);
  if (!callbacks) {
    const added = new Set<() => void>();
    callbacks = added;
    fanOuts.set(signal, added);
    signal.addEventListener(
      "abort",
      () => {
        fanOuts.delete(signal);
        // Every callback runs even if one throws; the first error is thrown afterwards, where a
        // listener's own would have surfaced.
        let failure: { error: unknown } | undefined;
        for (const f of [...added]) {
          try {
            f();
          } catch (error) {
            failure ??= { error };
          }
        }
        added.clear();
        if (failure) throw failure.error;
      },
      { once: true },
    );
  }
  const set = callbacks;
  set.add(fn);
  return () => void set.delete(fn);
}
