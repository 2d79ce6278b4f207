/**
 * A quick look at the shape of a YAML text before the `yaml` package parses it. That parser
 * recurses once per nesting level (100,000 `[` overflow its stack), spends about 12 µs per key
 * or list entry (600,000 tiny targets: 4 s before anything could be checked) and checks each key
 * of a mapping against every earlier one (8 MiB of keys in one mapping: hours). This scan reads
 * the text once, in milliseconds, following just enough of YAML (indentation, `-` and `key:`
 * indicators, flow brackets, quotes, comments, block scalars) to count what the parser would
 * build, and stops at the first limit of {@link YAML_LIMITS} crossed.
 *
 * It may count a little more than the parser builds (e.g. a `- ` inside a multi-line plain
 * scalar), never much less; text that is not valid YAML is left to the parser to report.
 */
import { formatCount, YAML_LIMITS } from "./limits.js";

/** The first limit the text crosses, at the line where it does. */
export type ShapeProblem =
  | { kind: "depth"; line: number }
  /** `under`: the top-level key whose value is this list (`targets`), if it is one. */
  | { kind: "list"; line: number; under: string | undefined }
  | { kind: "keys"; line: number }
  | { kind: "entries"; line: number };

interface Level {
  /** Column of a block collection's indicators (unused in flow collections). */
  col: number;
  seq: boolean;
  entries: number;
  under: string | undefined;
  /** Flow collections: the next node starts an entry (after `[`, `{` or `,`). */
  expect: boolean;
}

const [TAB, LF, CR, SPACE, BANG, DQUOTE, HASH, PERCENT, AMP, SQUOTE, STAR, COMMA, DASH, DOT, COLON, GT, QUESTION] =
  [9, 10, 13, 32, 33, 34, 35, 37, 38, 39, 42, 44, 45, 46, 58, 62, 63];
const [LBRACKET, BACKSLASH, RBRACKET, LBRACE, PIPE, RBRACE] = [91, 92, 93, 123, 124, 125];

/**
 * The first limit of {@link YAML_LIMITS} that the text crosses, or `undefined` when it stays
 * within all of them.
 *
 * @param limits other limits, for tests.
 * @example
 * ```ts
 * checkYamlShape("targets: " + "[".repeat(100_000)); // { kind: "depth", line: 1 }
 * checkYamlShape("targets:\n  - dsn: file:a.db\n");  // undefined
 * ```
 */
export function checkYamlShape(text: string, limits: { readonly [K in keyof typeof YAML_LIMITS]: number } = YAML_LIMITS): ShapeProblem | undefined {
  const n = text.length;
  const at = (k: number): number => text.charCodeAt(k); // NaN past the end
  const blank = (c: number): boolean => c === SPACE || c === TAB || c === LF || c === CR || Number.isNaN(c);
  const flowIndicator = (c: number): boolean => c === COMMA || c === LBRACKET || c === RBRACKET || c === LBRACE || c === RBRACE;
  let i = at(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let lineStart = i;
  let total = 0;
  let rootKey: string | undefined;
  let problem: ShapeProblem | undefined;
  const blocks: Level[] = [];
  const flows: Level[] = [];

  const newline = (): void => {
    i++;
    line++;
    lineStart = i;
  };
  const toEol = (): void => {
    while (i < n && at(i) !== LF) i++;
  };
  const open = (seq: boolean, col: number, stack: Level[]): Level => {
    const parent = blocks.length + flows.length === 1 ? (blocks[0] ?? flows[0]) : undefined;
    const level: Level = { col, seq, entries: 0, under: parent && !parent.seq ? rootKey : undefined, expect: true };
    stack.push(level);
    if (blocks.length + flows.length > limits.depth) problem ??= { kind: "depth", line };
    return level;
  };
  const entry = (level: Level): void => {
    level.entries++;
    total++;
    if (level.seq && level.entries > limits.listEntries) problem ??= { kind: "list", line, under: level.under };
    else if (!level.seq && level.entries > limits.mappingKeys) problem ??= { kind: "keys", line };
    else if (total > limits.entries) problem ??= { kind: "entries", line };
  };
  const skipQuoted = (): void => {
    const quote = at(i++);
    while (i < n) {
      const c = at(i);
      if (c === LF) newline();
      else if (c === BACKSLASH && quote === DQUOTE) i += at(i + 1) === LF ? 1 : 2;
      else if (c === quote && quote === SQUOTE && at(i + 1) === SQUOTE) i += 2;
      else if (c === quote) return void i++;
      else i++;
    }
  };
  const skipToken = (): void => {
    while (i < n && !blank(at(i)) && !(flows.length > 0 && flowIndicator(at(i)))) i++;
  };

  // A block scalar's lines are text: skip every line indented deeper than its parent, or blank.
  const blockScalar = (): void => {
    const parent = blocks.at(-1)?.col ?? -1;
    toEol();
    while (i < n) {
      newline();
      let k = i;
      while (at(k) === SPACE || at(k) === TAB) k++;
      if (k < n && at(k) !== LF && at(k) !== CR && k - i <= parent) return;
      i = k;
      toEol();
    }
  };

  // From a `[` or `{` to its match, across lines; the rest of the line is the block scanner's.
  const flow = (): void => {
    open(at(i++) === LBRACKET, 0, flows);
    while (i < n && !problem) {
      const c = at(i);
      const top = flows.at(-1)!;
      if (c === LF) newline();
      else if (blank(c)) i++;
      else if (c === HASH && blank(at(i - 1))) toEol();
      else if (c === COMMA) {
        top.expect = true;
        i++;
      } else if (c === RBRACKET || c === RBRACE) {
        flows.pop();
        i++;
        if (flows.length === 0) return;
      } else if (c === COLON && (blank(at(i + 1)) || flowIndicator(at(i + 1)))) i++;
      else {
        const rootEntry = blocks.length === 0 && flows.length === 1 && !top.seq && top.expect;
        if (top.expect) entry(top);
        top.expect = false;
        const start = i;
        if (c === LBRACKET || c === LBRACE) open(c === LBRACKET, 0, flows);
        else if (c === DQUOTE || c === SQUOTE) skipQuoted();
        else if (c === AMP || c === BANG || c === STAR) skipToken();
        else {
          while (i < n && !flowIndicator(at(i)) && at(i) !== LF && !(at(i) === COLON && (blank(at(i + 1)) || flowIndicator(at(i + 1)))) && !(at(i) === HASH && blank(at(i - 1)))) i++;
        }
        if (flows.length === 0) return;
        if (c === LBRACKET || c === LBRACE) i++;
        else if (rootEntry) rootKey = keyText(text, start, i);
      }
    }
  };

  // The nodes of one line in block context, from `i` to the end of the line.
  const nodes = (): void => {
    while (i < n && !problem) {
      while (at(i) === SPACE || at(i) === TAB || at(i) === CR) i++;
      const c = at(i);
      const col = i - lineStart;
      if (i >= n) return;
      if (c === LF) return newline();
      if (c === HASH) toEol();
      else if ((c === DASH || c === QUESTION) && blank(at(i + 1))) {
        const seq = c === DASH;
        const top = blocks.at(-1);
        entry(top && top.col === col && top.seq === seq ? top : open(seq, col, blocks));
        i++;
      } else if (c === COLON && blank(at(i + 1))) i++;
      else if (c === LBRACKET || c === LBRACE) flow();
      else if (c === PIPE || c === GT) return blockScalar();
      else if (c === AMP || c === BANG) skipToken();
      else {
        const start = i;
        if (c === DQUOTE || c === SQUOTE) skipQuoted();
        else if (c === STAR) skipToken();
        else while (i < n && at(i) !== LF && !(at(i) === COLON && blank(at(i + 1))) && !(at(i) === HASH && blank(at(i - 1)))) i++;
        let k = i;
        while (at(k) === SPACE || at(k) === TAB) k++;
        if (at(k) !== COLON || !blank(at(k + 1))) {
          toEol(); // a value: only a comment can follow
          continue;
        }
        const top = blocks.at(-1);
        entry(top && top.col === col && !top.seq ? top : open(false, col, blocks));
        if (blocks.length === 1 && flows.length === 0) rootKey = keyText(text, start, i);
        i = k + 1;
      }
    }
  };

  while (i < n && !problem) {
    while (at(i) === SPACE) i++;
    const indent = i - lineStart;
    while (at(i) === TAB || at(i) === CR) i++;
    const c = at(i);
    if (i >= n) break;
    if (c === LF || c === HASH) {
      toEol();
      if (i < n) newline();
      continue;
    }
    if (indent === 0 && (c === DASH || c === DOT) && at(i + 1) === c && at(i + 2) === c && blank(at(i + 3))) {
      // A document marker (`---`, `...`): whatever was open is closed.
      blocks.length = 0;
      rootKey = undefined;
      i += 3;
    } else if (indent === 0 && c === PERCENT) {
      toEol(); // a directive
      continue;
    }
    // Close the collections this line is not inside of; a list may sit at its key's indentation.
    const dash = c === DASH && blank(at(i + 1));
    for (let top = blocks.at(-1); top && (top.col > indent || (top.col === indent && top.seq && !dash)); top = blocks.at(-1)) blocks.pop();
    nodes();
  }
  return problem;
}

/** A key as written, without quotes: only compared with `targets`. */
function keyText(text: string, start: number, end: number): string {
  const raw = text.slice(start, end).trim();
  return /^(["']).*\1$/s.test(raw) ? raw.slice(1, -1) : raw;
}

/**
 * The one-line message for a shape problem, without its location.
 *
 * @example
 * ```ts
 * shapeMessage({ kind: "depth", line: 1 }); // "nested deeper than 64 levels: …"
 * ```
 */
export function shapeMessage(problem: ShapeProblem): string {
  const count = formatCount;
  switch (problem.kind) {
    case "depth":
      return `nested deeper than ${YAML_LIMITS.depth} levels (a configuration needs 5): look for an unclosed "[" or "{" or runaway indentation`;
    case "list":
      return problem.under === "targets"
        ? `more than ${count(YAML_LIMITS.listEntries)} targets, the most one healthcheck process probes: split them over several processes`
        : `a list of more than ${count(YAML_LIMITS.listEntries)} entries, the most any list may hold`;
    case "keys":
      return `a mapping of more than ${count(YAML_LIMITS.mappingKeys)} keys, the most any mapping may hold`;
    case "entries":
      return `more than ${count(YAML_LIMITS.entries)} keys and list entries in all, the most a file may hold (${count(YAML_LIMITS.listEntries)} targets with every setting written out need about 240,000)`;
  }
}
