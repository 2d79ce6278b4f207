/**
 * Every size and count the configuration may reach, in one place so that the checks, `--help`
 * and docs/configuration.md quote the same numbers. Each limit is far above what a real configuration
 * needs and low enough that the input it allows is read, parsed and rejected in about a second
 * and a few hundred MB at worst: hostile or broken input must never stall or exhaust the process.
 */

import { FILE_LIMITS as CORE_FILE_LIMITS, formatBytes } from "@alfred/db-health-core";

export { formatBytes };

/**
 * A whole number with thousands separators, as `toLocaleString("en-US")` writes it, without
 * loading ICU's locale data: that costs about 9 ms, paid at every start since --help's text is
 * built when this module loads.
 *
 * @example
 * ```ts
 * formatCount(300_000); // "300,000"
 * ```
 */
export function formatCount(n: number): string {
  const [whole, fraction] = String(Math.abs(n)).split(".");
  return `${n < 0 ? "-" : ""}${whole!.replace(/\B(?=(\d{3})+$)/g, ",")}${fraction ? `.${fraction}` : ""}`;
}

const MiB = 1024 * 1024;

/**
 * The files the CLI reads itself, by what they hold: the most each may weigh, and how messages
 * name it. A password or DSN is a few hundred bytes; a PEM chain a few KiB; a configuration
 * with {@link MAX_TARGETS} targets, every setting written out, about 5 MiB.
 */
export const FILE_LIMITS = {
  /** `passwordFile`, `dsnFile` and every `*_FILE` variable (core's limit, which drivers share). */
  secret: CORE_FILE_LIMITS.secret,
  /** `--config`, `DB_HEALTH_CONFIG`, `config check FILE`. */
  config: { bytes: 8 * MiB, label: "a configuration file" },
  /** `--web-config`, `DB_HEALTH_WEB_CONFIG`, `webConfig:`. */
  webConfig: { bytes: 1 * MiB, label: "a web config file" },
  /** `cert_file`, `key_file`, `client_ca_file` of the web config (core's limit, which drivers share). */
  pem: CORE_FILE_LIMITS.pem,
} as const;

/** What a file read by the CLI holds. */
export type FileKind = keyof typeof FILE_LIMITS;

/**
 * Targets one process probes at most: ten times the 1,000 the benchmarks run. With 32 cycles at
 * a time, 10,000 targets stay on the default 15 s schedule only while a cycle takes under 48 ms
 * (15 s × 32 / 10,000), a LAN database's few milliseconds plus a margin; a file with 10,000 fully
 * written targets already takes ~3 s to parse; `/metrics` then holds ~760,000 series (76 per
 * target), which is why such setups scrape `/probe?target=`. Beyond it, split the targets over
 * several processes.
 */
export const MAX_TARGETS = 10_000;

/** Limits of a YAML document (the configuration file and the web config file). */
export const YAML_LIMITS = {
  /**
   * Nested lists and mappings. A configuration needs 5 (root → targets → target → checks → check), a web
   * config 3; the YAML parser recurses per level, so 100,000 levels would overflow its stack.
   */
  depth: 64,
  /** Entries of one list: the targets list is the only long one. */
  listEntries: MAX_TARGETS,
  /**
   * Keys of one mapping. A target has at most 20; the parser checks each new key against
   * every earlier one of its mapping, so time grows with the square of this.
   */
  mappingKeys: 256,
  /**
   * Keys and list entries in the whole document: 10,000 targets with every setting written out
   * need about 240,000. The parser spends about 12 µs on each, so this bounds a file at ~4 s.
   */
  entries: 300_000,
} as const;
