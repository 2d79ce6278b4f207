import fc from "fast-check";
import { isMap, isPair, isSeq, parseDocument, stringify, type Node } from "yaml";
import { describe, expect, it } from "vitest";
import { YAML_LIMITS } from "./limits.js";
import { checkYamlShape, shapeMessage } from "./yaml-shape.js";

const RUNS = { numRuns: Math.max(300, Math.floor(Number(process.env.DB_HEALTH_FUZZ_RUNS ?? 2000) / 2)) };

/** What the `yaml` parser itself builds: deepest nesting, longest list, largest mapping, entries. */
function measure(text: string): { depth: number; list: number; keys: number; entries: number } | undefined {
  const stats = { depth: 0, list: 0, keys: 0, entries: 0 };
  const walk = (node: unknown, depth: number): void => {
    if (isMap(node) || isSeq(node)) {
      stats.depth = Math.max(stats.depth, depth);
      stats.entries += node.items.length;
      if (isSeq(node)) stats.list = Math.max(stats.list, node.items.length);
      else stats.keys = Math.max(stats.keys, node.items.length);
      for (const item of node.items as unknown[]) {
        if (isPair(item)) {
          walk(item.key, depth + 1);
          walk(item.value, depth + 1);
        } else walk(item, depth + 1);
      }
    }
  };
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return undefined;
  walk(doc.contents as Node, 1);
  return stats;
}

// Strings that look like YAML structure inside scalars: a scanner fooled by them miscounts.
const tricky = fc.string({ maxLength: 14, unit: fc.constantFrom(..."ab- :#[]{},'\"|>&*!?\n\t%".split("")) });
const scalar = fc.oneof(tricky, fc.integer(), fc.boolean(), fc.constant(null));
const value = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.oneof(fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom(..."abkey".split("")) }), tricky), tie("value"), { maxKeys: 5 }),
  ),
})).value;
const style = fc.record({
  collectionStyle: fc.constantFrom("any", "block", "flow") as fc.Arbitrary<"any" | "block" | "flow">,
  indent: fc.integer({ min: 1, max: 4 }),
  indentSeq: fc.boolean(),
  defaultStringType: fc.constantFrom("PLAIN", "QUOTE_DOUBLE", "QUOTE_SINGLE", "BLOCK_LITERAL", "BLOCK_FOLDED") as fc.Arbitrary<"PLAIN">,
  flowCollectionPadding: fc.boolean(),
  // No folding: a folded plain line may start with "- ", which the scanner counts (documented).
  lineWidth: fc.constant(0),
});
const limits = fc.record({ depth: fc.integer({ min: 1, max: 6 }), listEntries: fc.integer({ min: 1, max: 6 }), mappingKeys: fc.integer({ min: 1, max: 6 }), entries: fc.integer({ min: 1, max: 40 }) });

describe("checkYamlShape", () => {
  it("flags exactly the documents whose parse crosses a limit, in every style the yaml package writes", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom("targets", "defaults", "plugins", "x"), value, { maxKeys: 4 }), style, limits, (root, options, lim) => {
        const text = stringify(root, options);
        const real = measure(text);
        // The yaml package sometimes writes what it cannot read back (`key:\n[]` with indentSeq off).
        fc.pre(real !== undefined);
        const over = real.depth > lim.depth || real.list > lim.listEntries || real.keys > lim.mappingKeys || real.entries > lim.entries;
        const found = checkYamlShape(text, lim);
        expect(found !== undefined, `${JSON.stringify(real)} ${JSON.stringify(found)}\n${text}`).toBe(over);
      }),
      RUNS,
    );
  });

  it("follows quotes, comments, block scalars, multi-line flow collections and document markers", () => {
    const text = [
      "\uFEFF%YAML 1.2",
      "---",
      "# - not: [an, entry]",
      "\"targets\":   # [ not a flow",
      "- name: 'a - [b'   # - c",
      "  dsn: \"x\\\" - [y\\",
      "    - z\"",
      "  note: |",
      "    - text, [not, a, list]",
      "    key: not a key",
      "",
      "  flow: [ a, 'b, c', { d: e,",
      "     f: g }, ]",
      "-   - nested",
      "    - twice",
      "defaults: {readTimeout: 1s}\r",
      "...",
      "",
    ].join("\n");
    // root → targets → the first target → flow → { d, f }; targets, name, dsn, note, flow, …
    expect(measure(text)).toEqual({ depth: 5, list: 3, keys: 4, entries: 16 });
    const exact = { depth: 5, listEntries: 3, mappingKeys: 4, entries: 16 };
    expect(checkYamlShape(text, exact)).toBeUndefined();
    expect(checkYamlShape(text, { ...exact, depth: 4 })).toEqual({ kind: "depth", line: 12 });
    expect(checkYamlShape(text, { ...exact, listEntries: 2 })).toEqual({ kind: "list", line: 12, under: undefined });
    expect(checkYamlShape(text, { ...exact, mappingKeys: 3 })).toEqual({ kind: "keys", line: 12 });
    expect(checkYamlShape(text, { ...exact, entries: 15 })).toEqual({ kind: "entries", line: 16 });
  });

  it("names the targets list, at the top level of a block or a flow document", () => {
    const lim = { ...YAML_LIMITS, listEntries: 2 };
    expect(checkYamlShape("targets:\n- a\n- b\n- c\n", lim)).toEqual({ kind: "list", line: 4, under: "targets" });
    expect(checkYamlShape("{ plugins: [], 'targets': [a, b,\n c] }", lim)).toEqual({ kind: "list", line: 2, under: "targets" });
    expect(checkYamlShape("x:\n  targets: [a, b, c]\n", lim)).toEqual({ kind: "list", line: 2, under: undefined });
  });

  it("stops at the first level too deep, whatever the nesting is made of", () => {
    const deep = YAML_LIMITS.depth + 1;
    const forms = {
      brackets: `targets: ${"[".repeat(100_000)}`,
      braces: `targets: ${"{a: ".repeat(100_000)}`,
      dashes: `targets:\n${"- ".repeat(100_000)}x`,
      indentation: Array.from({ length: 1000 }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n"),
    };
    for (const [name, text] of Object.entries(forms)) expect(checkYamlShape(text), name).toMatchObject({ kind: "depth" });
    // The root mapping is the first level.
    expect(checkYamlShape(`a: ${"[".repeat(deep - 2)}${"]".repeat(deep - 2)}`)).toBeUndefined();
    expect(checkYamlShape(`a: ${"[".repeat(deep - 1)}${"]".repeat(deep - 1)}`)).toEqual({ kind: "depth", line: 1 });
  });

  it("says what is wrong in one line", () => {
    expect(shapeMessage({ kind: "list", line: 1, under: "targets" })).toBe("more than 10,000 targets, the most one healthcheck process probes: split them over several processes");
    expect(shapeMessage({ kind: "depth", line: 1 })).toMatch(/^nested deeper than 64 levels /);
    for (const kind of ["depth", "keys", "entries"] as const) expect(shapeMessage({ kind, line: 1 })).not.toContain("\n");
  });
});
