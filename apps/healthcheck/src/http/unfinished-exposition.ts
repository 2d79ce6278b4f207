/** What a scrape gets when its budget ended before the target's cycle did. */

/**
 * The target's series as `renderTarget()` gives them, with `db_up` 0 and the `db_status` state
 * `down`, for this one response: the target could not be shown usable within the scrape's time,
 * so the scrape says so, while the shared registry (and `/metrics`) keeps what the last finished
 * cycle found until the cycle in flight ends. Counters and histograms are left as they are, so
 * `rate()` sees no reset. A comment line before them carries the reason (Prometheus ignores it).
 *
 * @example
 * ```ts
 * send(res, 200, unfinishedExposition(metrics.renderTarget("orders"), answer.unfinished), metrics.registry.contentType);
 * ```
 */
export function unfinishedExposition(text: string, reason: string): string {
  const lines = text.split("\n").map((line) => {
    if (line.startsWith("db_up{")) return line.replace(/ \S+$/, " 0");
    if (line.startsWith("db_status{")) return line.replace(/ \S+$/, /[{,]status="down"[,}]/.test(line) ? " 1" : " 0");
    return line;
  });
  // One line: a reason never holds a newline once core has cleaned it, but a comment must not break.
  return `# unfinished: ${reason.replace(/[\r\n]+/g, " ")}\n${lines.join("\n")}`;
}
