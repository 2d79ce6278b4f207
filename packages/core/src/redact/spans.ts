/**
 * Bounded searches over a string and the `[start, end)` spans they yield, shared by the
 * redaction rules and the DSN parser so that both cut text the same way.
 */

/** A `[start, end)` range of a string. */
export type Span = readonly [start: number, end: number];

/** First index in [from, to) of `char`, else -1. */
export function indexOfChar(text: string, char: string, from: number, to: number): number {
  for (let i = from; i < to; i++) if (text[i] === char) return i;
  return -1;
}

/** First index in [from, to) of a character matching `re`, else `to`. */
export function indexOfMatch(text: string, re: RegExp, from: number, to: number): number {
  if (to <= from) return to;
  const found = text.slice(from, to).search(re);
  return found < 0 ? to : from + found;
}

/** The span, unless it is empty: an empty value has nothing to hide. */
export function nonEmpty(start: number, end: number): Span | undefined {
  return end > start ? [start, end] : undefined;
}
