/**
 * Every size the configuration's files may reach, in one place so that the checks, `--help`
 * and the README quote the same numbers. Each limit is far above what a real file needs and low
 * enough that reading it costs nothing: hostile or broken input must never stall or exhaust the
 * process.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The files the CLI reads itself, by what they hold: the most each may weigh, and how messages
 * name it. A password or DSN is a few hundred bytes; a PEM chain a few KiB; a configuration
 * with 10,000 targets, every setting written out, about 5 MiB.
 */
export const FILE_LIMITS = {
  /** `passwordFile`, `dsnFile` and every `*_FILE` variable. */
  secret: { bytes: 64 * KiB, label: "a secret file" },
  /** `--config`, `DB_HEALTH_CONFIG`, `config check FILE`. */
  config: { bytes: 8 * MiB, label: "a configuration file" },
  /** `--web-config`, `DB_HEALTH_WEB_CONFIG`, `webConfig:`. */
  webConfig: { bytes: 1 * MiB, label: "a web config file" },
  /** `cert_file`, `key_file`, `client_ca_file` of the web config. */
  pem: { bytes: 1 * MiB, label: "a PEM file" },
} as const;

/** What a file read by the CLI holds. */
export type FileKind = keyof typeof FILE_LIMITS;

/**
 * A byte count as messages show it: `9.1 MiB`, `64 KiB`, `300 bytes`.
 *
 * @example
 * ```ts
 * formatBytes(9.1 * 1024 * 1024); // "9.1 MiB"
 * formatBytes(65536);             // "64 KiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  const unit = (size: number, name: string): string => `${Number((bytes / size).toFixed(1))} ${name}`;
  if (bytes >= MiB) return unit(MiB, "MiB");
  if (bytes >= KiB) return unit(KiB, "KiB");
  return `${bytes} bytes`;
}
