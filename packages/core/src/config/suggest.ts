/** "Did you mean …?" for unknown option names. */

/**
 * The message for an unknown option: the known keys a typo most likely meant, else all of them.
 *
 * @example
 * ```ts
 * unknownKey("conectTimeout", ["connectTimeout", "readTimeout"]);
 * // 'unknown option; did you mean "connectTimeout"?'
 * ```
 */
export function unknownKey(key: string, known: readonly string[]): string {
  // The YAML file is read as YAML 1.2, which has no merge keys: `<<` is an ordinary key there.
  if (key === "<<") return "a YAML merge key (<<: *anchor) is not supported: write the keys out, or alias a whole mapping or list (checks: *list)";
  const close = suggestions(key, known);
  if (close.length > 0) return `unknown option; did you mean ${close.map((k) => `"${k}"`).join(" or ")}?`;
  return `unknown option (known: ${known.join(", ")})`;
}

/** Known keys a typo most likely meant: same letters ignoring case and separators, a small edit away, or containing it. */
function suggestions(key: string, known: readonly string[]): string[] {
  const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, "");
  const k = norm(key);
  const same = known.filter((c) => norm(c) === k);
  if (same.length > 0) return same;
  const maxEdits = k.length >= 8 ? 2 : 1;
  const near = known.filter((c) => editDistance(k, norm(c)) <= maxEdits);
  if (near.length > 0) return near;
  return k.length >= 4 ? known.filter((c) => norm(c).includes(k)).slice(0, 3) : [];
}

/** Edits between two keys: insertions, deletions, substitutions and swaps of two neighbours (`mni` → `min` is one). */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (before[j - 2] ?? 0) + 1);
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length] ?? 0;
}
