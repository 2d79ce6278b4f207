// Small statistics and formatting helpers shared by the benchmarks.

/** The p-th percentile (nearest rank) of `xs`; `NaN` for no samples. */
export function pct(xs, p) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const median = (xs) => pct(xs, 50);

/** `a / b` as "1.23x", or "n/a" when either side is missing. */
export function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : "n/a";
}

export const ms = (v, digits = 1) => (Number.isFinite(v) ? `${v.toFixed(digits)} ms` : "n/a");
export const mb = (kb) => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(1)} MB` : "n/a");

/** Left-aligned text table, as printed and as written into docs/performance.md. */
export function textTable(header, rows) {
  const widths = header.map((h, i) => Math.max(String(h).length, ...rows.map((r) => String(r[i] ?? "").length)));
  const line = (r) => r.map((c, i) => String(c ?? "").padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** The same table in Markdown. */
export function mdTable(header, rows) {
  const esc = (c) => String(c ?? "").replace(/\|/g, "\\|");
  return [`| ${header.map(esc).join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`)].join("\n");
}

/** Progress on stderr, so that long steps show they are alive. */
export const progress = (text) => process.stderr.write(`  … ${text}\n`);
