// Reads a V8 .cpuprofile (node --cpu-prof) and sums sample time by package or file, and prints
// the heaviest stacks as an indented text flame graph, so a profile can be read in a terminal
// and pasted into docs/performance.md.
import { readFileSync } from "node:fs";

/** Where a frame's code lives: `pkg:zod`, `node:internal/...`, `app:packages/core/dist/x.js`. */
export function owner(url) {
  if (!url) return "(native/gc)";
  if (url.startsWith("node:")) return url.startsWith("node:internal/modules") ? "node: module loading" : "node: runtime";
  const m = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return `pkg:${m[1]}`;
  const app = /\/(packages|apps|bench)\/(.*)$/.exec(url);
  return app ? `app:${app[1]}/${app[2]}` : url;
}

/** Self time (ms) by owner, heaviest first. */
export function selfTimeBy(profile, key = owner) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const k = key(node.callFrame.url, node.callFrame);
    totals.set(k, (totals.get(k) ?? 0) + (dt[i] ?? 0) / 1000);
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
}

/**
 * Inclusive time per call path, pruned to frames above `minMs`: an indented text flame graph.
 */
export function flame(profile, { minMs = 2, depth = 14 } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, { ...n, self: 0 }]));
  profile.samples.forEach((id, i) => (byId.get(id).self += (profile.timeDeltas[i] ?? 0) / 1000));
  const total = (n) => (n.total ??= n.self + (n.children ?? []).reduce((s, c) => s + total(byId.get(c)), 0));
  const lines = [];
  const walk = (n, d) => {
    if (d > depth) return;
    const kids = (n.children ?? []).map((c) => byId.get(c)).filter((c) => total(c) >= minMs).sort((a, b) => total(b) - total(a));
    for (const k of kids) {
      const f = k.callFrame;
      const where = f.url ? ` ${owner(f.url)}:${f.lineNumber + 1}` : "";
      lines.push(`${total(k).toFixed(1).padStart(7)} ms ${"  ".repeat(d)}${f.functionName || "(anonymous)"}${where}`);
      walk(k, d + 1);
    }
  };
  walk(byId.get(profile.nodes[0].id), 0);
  return lines.join("\n");
}

export const readProfile = (file) => JSON.parse(readFileSync(file, "utf8"));
