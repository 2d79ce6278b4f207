/**
 * The YAML configuration file: read within its size limit, its nesting and size checked before
 * it is parsed (yaml-shape.ts), parsed with `yaml` (loaded only when a file is given, to keep
 * `--once` start-up cheap), checked for its shape, and able to say on which line a key sits so
 * that every problem points at the place to edit.
 */
import { stat } from "node:fs/promises";
import { dsnSecrets } from "@alfred/db-health-core";
import { dirname, resolve } from "node:path";
import type { Document, LineCounter } from "yaml";
import { closeKeys, quote, unknownKey, type Problems } from "./problems.js";
import { readFileLimited, UnreadableFile } from "@alfred/db-health-core";
import { FILE_LIMITS } from "./limits.js";
import { YAML_DEFAULT_KEYS, YAML_TARGET_KEYS, YAML_TOP_KEYS } from "./settings.js";
import { checkYamlShape, shapeMessage } from "./yaml-shape.js";

type Raw = Record<string, unknown>;

/** A loaded configuration file; values are as written (core validates the target settings). */
export interface YamlConfig {
  /** The path as the user gave it, used in messages. */
  file: string;
  /** Directory that relative paths in the file (dsnFile, passwordFile, webConfig, plugins) are resolved against. */
  dir: string;
  /** Where a path in the file is: `healthcheck.yaml: targets[1].readTimeout (line 7)`. */
  where: (path: readonly (string | number)[]) => string;
  /** Targets with known keys only (unknown ones are reported and dropped). */
  targets: Raw[];
  defaults: Raw;
  /** Top-level settings other than targets/defaults, present only when written. */
  top: Partial<Record<(typeof YAML_TOP_KEYS)[number], unknown>>;
}

/**
 * Reads and checks a configuration file. Problems (unreadable file, a FIFO or device, over
 * 8 MiB, nested too deep, too many targets, YAML syntax, unknown keys with a suggestion, wrong
 * shapes) are added to `problems`, prefixed with `source` for a file that cannot be read and with
 * the file and line for everything inside it.
 *
 * @returns the file's content, or `undefined` when it could not be read or parsed at all.
 * @example
 * ```ts
 * const file = await loadYamlFile("healthcheck.yaml", "--config", problems);
 * file?.targets.length;
 * ```
 */
export async function loadYamlFile(path: string, source: string, problems: Problems): Promise<YamlConfig | undefined> {
  let text: string;
  try {
    text = (await readFileLimited(path, FILE_LIMITS.config)).toString("utf8");
  } catch (err) {
    if (!(err instanceof UnreadableFile)) throw err;
    problems.add(source, err.message);
    return undefined;
  }
  // Before the parser builds anything: it is what nesting, size and count would stall.
  const shape = checkYamlShape(text);
  if (shape) {
    problems.add(shape.kind === "list" && shape.under === "targets" ? `${path}: targets (line ${shape.line})` : `${path} (line ${shape.line})`, shapeMessage(shape));
    return undefined;
  }
  const { parseDocument, LineCounter, isCollection, visit } = await import("yaml");
  const lines = new LineCounter();
  // prettyErrors off: its code frame would quote the source line, which may hold a password.
  // logLevel "error": the library's warnings go through process.emitWarning, quoting the text.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, logLevel: "error" });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const { line, col } = lines.linePos(e.pos[0]);
      problems.add(`${path} (line ${line}, column ${col})`, e.message.replace(/:\s*["'`].*$/s, ""));
    }
    return undefined;
  }
  // A mapping or list used as a key ("- {dsn: …}:") would become its own text as a key name.
  let collectionKey = false;
  visit(doc, {
    Pair(_, pair) {
      if (!isCollection(pair.key)) return undefined;
      const at = (pair.key as { range?: [number] }).range?.[0] ?? 0;
      problems.add(`${path} (line ${lines.linePos(at).line})`, "a key must be plain text, not a mapping or a list (a stray \":\" after a value?)");
      collectionKey = true;
      return visit.SKIP;
    },
  });
  if (collectionKey) return undefined;
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    problems.add(path, (err as Error).message);
    return undefined;
  }
  const where = (p: readonly (string | number)[]): string => {
    const line = lineOf(doc, lines, p);
    return `${path}: ${formatPath(p)}${line === undefined ? "" : ` (line ${line})`}`;
  };
  const config: YamlConfig = { file: path, dir: dirname(resolve(path)), where, targets: [], defaults: {}, top: {} };
  if (root === null || root === undefined) return config; // an empty file configures nothing
  if (!isRecord(root)) {
    problems.add(path, "must be a mapping of settings (targets:, defaults:, …), not a list or a single value");
    return config;
  }
  for (const [key, value] of Object.entries(root)) {
    if (key === "targets") config.targets = checkTargets(value, where, problems);
    else if (key === "defaults") config.defaults = checkKeys(value, ["defaults"], YAML_DEFAULT_KEYS, where, problems) ?? {};
    else if ((YAML_TOP_KEYS as readonly string[]).includes(key)) config.top[key as (typeof YAML_TOP_KEYS)[number]] = value;
    else problems.add(where([key]), unknownTopKey(key));
  }
  await warnIfExposed(path, config, problems);
  return config;
}

/**
 * A file with passwords inline that every user of the machine may read: worth a warning (not an
 * error: containers often run a single user). Files named by passwordFile/dsnFile are secrets
 * mounted by Docker or Kubernetes, whose modes the platform sets; they are not judged here.
 */
async function warnIfExposed(path: string, config: YamlConfig, problems: Problems): Promise<void> {
  const holding = config.targets.flatMap((t, i) => (typeof t.dsn === "string" && dsnSecrets(t.dsn).length > 0 ? [`targets[${i}].dsn`] : []));
  if (holding.length === 0) return;
  const mode = await stat(path).then((s) => s.mode & 0o777, () => undefined);
  if (mode === undefined || (mode & 0o004) === 0) return;
  problems.warn(
    path,
    `is readable by every user (mode ${mode.toString(8).padStart(4, "0")}) and holds passwords (${holding.join(", ")}): chmod 600 it, or move the passwords to passwordFile or dsnFile`,
  );
}

/** A target setting written at the top level is a common slip: say where it belongs. */
function unknownTopKey(key: string): string {
  const where = "put it under defaults: (every target) or under one target";
  if (YAML_DEFAULT_KEYS.includes(key)) return `"${key}" is a target setting: ${where}`;
  const setting = closeKeys(key, YAML_DEFAULT_KEYS);
  if (closeKeys(key, YAML_TOP_KEYS).length > 0 || setting.length === 0) return unknownKey(key, YAML_TOP_KEYS);
  return `unknown option; did you mean ${setting.map((k) => `"${k}"`).join(" or ")}? That is a target setting: ${where}`;
}

/** `targets` must be a list of mappings; each keeps its known keys. */
function checkTargets(value: unknown, where: (p: readonly (string | number)[]) => string, problems: Problems): Raw[] {
  if (value === null) return [];
  if (!Array.isArray(value)) {
    problems.add(where(["targets"]), "must be a list of targets, each like { name: orders, dsn: postgres://app@db:5432/orders }");
    return [];
  }
  return value.map((item, i) => {
    const target = checkKeys(item, ["targets", i], YAML_TARGET_KEYS, where, problems) ?? {};
    if (target.dsn !== undefined && target.dsnFile !== undefined) {
      problems.add(where(["targets", i, "dsnFile"]), "dsn is set too; give the DSN inline or in a file, not both");
    }
    return target;
  });
}

/** A mapping whose unknown keys are reported (with a suggestion) and left out. */
function checkKeys(value: unknown, at: Array<string | number>, known: readonly string[], where: (p: readonly (string | number)[]) => string, problems: Problems): Raw | undefined {
  if (value === null) return undefined;
  if (!isRecord(value)) {
    problems.add(where(at), `must be a mapping of settings, got ${Array.isArray(value) ? "a list" : quote(value)}`);
    return undefined;
  }
  const out: Raw = {};
  for (const [key, v] of Object.entries(value)) {
    if (known.includes(key)) out[key] = v;
    else if (at[0] === "defaults" && (key === "dsn" || key === "name" || key === "dsnFile" || key === "passwordFile")) {
      problems.add(where([...at, key]), `${key} identifies one database: put it under targets:`);
    } else if (at[0] === "defaults" && key === "cluster") {
      problems.add(where([...at, key]), "cluster is set per target: give each member of the cluster cluster: under targets:");
    } else problems.add(where([...at, key]), unknownKey(key, known));
  }
  return out;
}

/**
 * Formats a path the way core names fields: `targets[1].thresholds.readLatency`.
 *
 * @example
 * ```ts
 * formatPath(["targets", 1, "readTimeout"]); // "targets[1].readTimeout"
 * ```
 */
export function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${quote(key)}]`;
  }
  return out;
}

// The line of the deepest node on the path that exists: a key's own line when the path ends
// at a key, so that "unknown key" points at the key rather than at its value.
function lineOf(doc: Document.Parsed, lines: LineCounter, path: readonly (string | number)[]): number | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined;
  const start = (n: unknown): number | undefined => (n as { range?: [number, number, number] } | null)?.range?.[0];
  for (const key of path) {
    const items = (node as { items?: unknown[] } | null)?.items;
    if (!Array.isArray(items)) break;
    if (typeof key === "number") {
      node = items[key];
      offset = start(node) ?? offset;
    } else {
      const pair = items.find((p) => String((p as { key?: { value?: unknown } }).key?.value) === key) as { key: unknown; value: unknown } | undefined;
      if (!pair) break;
      offset = start(pair.key) ?? offset;
      node = pair.value;
    }
  }
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

function isRecord(value: unknown): value is Raw {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
