/**
 * Collecting configuration problems from every source, so that one run reports all of them
 * (fixing one error per restart is the slowest way to repair a config), each line prefixed
 * with where the bad value came from.
 */
import { DbHealthError, redact } from "@alfred/db-health-core";

/**
 * Where a value came from, as shown in front of its problem: `--read-timeout (readTimeout)`,
 * `DB_HEALTH_INTERVAL (interval)`, `healthcheck.yaml: targets[1].readTimeout (line 7)`. The
 * argument is a path below the value (`["readLatency"]` under `thresholds`, `[1, "max"]` under
 * `checks`), which only YAML sources can point at.
 */
export type Where = (below?: readonly (string | number)[]) => string;

/**
 * A {@link Where} that is the same label whatever lies below (flags, variables).
 *
 * @example
 * ```ts
 * fixed("--interval")(["x"]); // "--interval"
 * ```
 */
export const fixed =
  (label: string): Where =>
  () =>
    label;

/**
 * Problems gathered while reading flags, variables and the YAML file, plus every secret seen
 * meanwhile, so that the final error can hide a password that was pasted into any field.
 *
 * @example
 * ```ts
 * const problems = new Problems();
 * problems.add("--interval", 'invalid duration "5x"');
 * problems.throwIfAny(); // DbHealthError("config", '--interval: invalid duration "5x"')
 * ```
 */
export class Problems {
  readonly lines: string[] = [];
  readonly secrets: string[] = [];
  /** Findings that do not stop the run (printed or logged as warnings), already free of secrets. */
  readonly warnings: string[] = [];

  /** Adds one warning: something unsafe but workable, e.g. a world-readable file holding passwords. */
  warn(where: string, message: string): void {
    this.warnings.push(`${where}: ${message}`);
  }

  /** Adds one problem; `where` is omitted only for problems that belong to no single source. */
  add(where: string | undefined, message: string): void {
    this.lines.push(where ? `${where}: ${message}` : message);
  }

  /** Remembers literal secrets (passwords, whole DSNs read from files) for redaction. */
  addSecrets(secrets: Iterable<string>): void {
    for (const s of secrets) if (s) this.secrets.push(s);
  }

  /** Throws one config error listing every problem once, redacted, if there is any. */
  throwIfAny(): void {
    if (this.lines.length === 0) return;
    throw new DbHealthError("config", [...new Set(this.lines)].join("\n"), { secrets: this.secrets });
  }
}

/**
 * The message for an unknown key: the known keys a typo most likely meant (same letters
 * ignoring case and `-`/`_`, a small edit away, or containing it), else the whole list.
 *
 * @example
 * ```ts
 * unknownKey("read_timeout", ["readTimeout", "writeTimeout"]); // 'unknown option; did you mean "readTimeout"?'
 * ```
 */
export function unknownKey(key: string, known: readonly string[]): string {
  const close = closeKeys(key, known);
  if (close.length > 0) return `unknown option; did you mean ${close.map((c) => `"${c}"`).join(" or ")}?`;
  return `unknown option (known: ${known.join(", ")})`;
}

/**
 * The known keys a typo most likely meant, best matches only; empty when none is close.
 *
 * @example
 * ```ts
 * closeKeys("intervall", ["interval", "listen"]); // ["interval"]
 * ```
 */
export function closeKeys(key: string, known: readonly string[]): string[] {
  const norm = (s: string): string => s.toLowerCase().replace(/[-_\s]/g, "");
  const k = norm(key);
  let close = known.filter((c) => norm(c) === k);
  if (close.length === 0) close = known.filter((c) => editDistance(k, norm(c)) <= (k.length >= 8 ? 2 : 1));
  if (close.length === 0 && k.length >= 4) close = known.filter((c) => norm(c).includes(k)).slice(0, 3);
  return close;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * How an unknown key or bad value is quoted in a message: redacted, then JSON-quoted and cut
 * short. Redacted before the cut: a cut can remove the "@" that marks a URL's password.
 *
 * @example
 * ```ts
 * quote("intervall"); // '"intervall"'
 * quote("admin:pw@127.0.0.1:9091/readyz", 80); // '"admin:***@127.0.0.1:9091/readyz"'
 * ```
 */
export function quote(value: unknown, max = 40): string {
  const text = redact(typeof value === "string" ? value : (JSON.stringify(value) ?? String(value)));
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
