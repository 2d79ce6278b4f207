/** Bounding a wait without abandoning the work: what a scrape with a deadline needs. */

/**
 * `work`'s value if it settles within `ms`, else `fallback()` then; the work goes on either way
 * (its rejection after the fallback is left to whoever else awaits it). A rejection before the
 * deadline rejects.
 *
 * @example
 * ```ts
 * const body = await within(rendering, 2000, () => previousBody);
 * ```
 */
export function within<T>(work: Promise<T>, ms: number, fallback: () => T): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(fallback()), Math.max(0, ms));
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
