/** Cutting one target's series out of the exporter's Prometheus text exposition. */

// One `name="value"` pair of a label set; values escape `\`, `"` and newline.
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

/**
 * Keeps the samples whose `target` label equals `target`, each metric family with its
 * `# HELP`/`# TYPE` lines; families without such a sample are dropped entirely, so the result
 * is itself valid exposition text (what `promtool check metrics` accepts).
 *
 * Filtering the shared registry rather than rebuilding metrics from one result keeps counters
 * and histograms cumulative, which is what `rate()` over `/probe` scrapes needs.
 *
 * @example
 * ```ts
 * targetSeries(await metrics.render(), "orders");
 * // '# HELP db_up …\n# TYPE db_up gauge\ndb_up{db_name="postgres",db_role="primary",target="orders"} 1\n…'
 * ```
 */
export function targetSeries(exposition: string, target: string): string {
  let out = "";
  let header = "";
  let headerSent = false;
  let inSamples = false;
  for (const line of exposition.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      // A comment after samples, or a HELP, starts the next family.
      if (line.startsWith("# HELP ") || inSamples) {
        header = "";
        headerSent = false;
        inSamples = false;
      }
      header += `${line}\n`;
      continue;
    }
    inSamples = true;
    if (labelValue(line, "target") !== target) continue;
    if (!headerSent) {
      out += header;
      headerSent = true;
    }
    out += `${line}\n`;
  }
  return out;
}

/**
 * The unescaped value of one label of a sample line; undefined when the sample lacks it.
 *
 * @example
 * ```ts
 * labelValue('db_up{db_name="sqlite",target="app"} 1', "target"); // "app"
 * ```
 */
export function labelValue(sample: string, name: string): string | undefined {
  const open = sample.indexOf("{");
  // `{` can only start the label set: metric names cannot contain it.
  if (open < 0 || /\s/.test(sample.slice(0, open))) return undefined;
  LABEL.lastIndex = open + 1;
  for (let m = LABEL.exec(sample); m; m = LABEL.exec(sample)) {
    if (m[1] === name) return (m[2] ?? "").replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
  }
  return undefined;
}
