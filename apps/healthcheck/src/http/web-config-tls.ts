/** The `tls_server_config` section of an exporter-toolkit web config. */
import { resolve } from "node:path";
import { createSecureContext, type SecureVersion } from "node:tls";
import { errorMessage } from "@alfred/db-health-core";
import { readFileLimited, UnreadableFile } from "@alfred/db-health-core";
import { FILE_LIMITS } from "../config/limits.js";

/** The exporter-toolkit's (Go's) client certificate policies. */
export type ClientAuthType =
  | "NoClientCert"
  | "RequestClientCert"
  | "RequireAnyClientCert"
  | "VerifyClientCertIfGiven"
  | "RequireAndVerifyClientCert";

/** A validated `tls_server_config`, with the PEM files read. */
export interface WebTlsConfig {
  cert: Buffer;
  key: Buffer;
  /** CA bundle that client certificates are verified against. */
  ca?: Buffer;
  clientAuth: ClientAuthType;
  minVersion: SecureVersion;
  maxVersion?: SecureVersion;
}

const CLIENT_AUTH: readonly ClientAuthType[] = ["NoClientCert", "RequestClientCert", "RequireAnyClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"];
const VERIFYING: readonly ClientAuthType[] = ["VerifyClientCertIfGiven", "RequireAndVerifyClientCert"];
const VERSIONS: Readonly<Record<string, SecureVersion>> = { TLS10: "TLSv1", TLS11: "TLSv1.1", TLS12: "TLSv1.2", TLS13: "TLSv1.3" };
const ORDER: readonly SecureVersion[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
const KNOWN = ["cert_file", "key_file", "client_ca_file", "client_auth_type", "min_version", "max_version"];
// exporter-toolkit keys that healthcheck does not implement; refusing them beats a server
// that looks configured but ignores a security setting.
const UNSUPPORTED = ["cert", "key", "client_ca", "client_allowed_sans", "cipher_suites", "curve_preferences", "prefer_server_cipher_suites"];

/**
 * Validates a `tls_server_config` value, reading the PEM files (relative paths against
 * `baseDir`; each a regular file of at most 1 MiB) and checking that node can use them.
 * Problems are appended to `problems`.
 *
 * @example
 * ```ts
 * const problems: string[] = [];
 * const tls = await readTlsServerConfig({ cert_file: "a.crt", key_file: "a.key" }, "/etc/healthcheck", problems);
 * ```
 */
export async function readTlsServerConfig(value: unknown, baseDir: string, problems: string[]): Promise<WebTlsConfig | undefined> {
  const before = problems.length;
  const at = (key: string): string => `tls_server_config.${key}`;
  if (!isMapping(value)) {
    problems.push("tls_server_config: must be a mapping with cert_file and key_file");
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (UNSUPPORTED.includes(key)) problems.push(`${at(key)}: not supported by healthcheck (supported: ${KNOWN.join(", ")})`);
    else if (!KNOWN.includes(key)) problems.push(`${at(key)}: unknown key (known: ${KNOWN.join(", ")})`);
  }
  const text = (key: string, required: boolean): string | undefined => {
    const v = value[key];
    if (v === undefined || v === null || v === "") {
      if (required) problems.push(`${at(key)}: required`);
      return undefined;
    }
    if (typeof v === "string") return v;
    problems.push(`${at(key)}: must be a string`);
    return undefined;
  };
  const pem = async (key: string, required: boolean): Promise<Buffer | undefined> => {
    const file = text(key, required);
    if (file === undefined) return undefined;
    try {
      return await readFileLimited(resolve(baseDir, file), FILE_LIMITS.pem);
    } catch (err) {
      if (!(err instanceof UnreadableFile)) throw err;
      problems.push(`${at(key)}: cannot read "${file}": ${err.detail}`);
      return undefined;
    }
  };
  const [cert, key, ca] = await Promise.all([pem("cert_file", true), pem("key_file", true), pem("client_ca_file", false)]);

  const authName = text("client_auth_type", false) ?? (value.client_ca_file === undefined ? "NoClientCert" : undefined);
  const clientAuth = CLIENT_AUTH.find((c) => c === authName);
  if (authName === undefined) {
    // The exporter-toolkit refuses this too: a CA without a policy verifies nothing.
    problems.push(`${at("client_ca_file")}: set client_auth_type too (RequireAndVerifyClientCert or VerifyClientCertIfGiven); a CA alone checks nothing`);
  } else if (!clientAuth) {
    problems.push(`${at("client_auth_type")}: must be one of ${CLIENT_AUTH.join(", ")}`);
  } else if (VERIFYING.includes(clientAuth) && value.client_ca_file === undefined) {
    problems.push(`${at("client_auth_type")}: ${clientAuth} needs client_ca_file (the CA that signs client certificates)`);
  } else if (!VERIFYING.includes(clientAuth) && value.client_ca_file !== undefined) {
    problems.push(`${at("client_ca_file")}: unused with client_auth_type ${clientAuth}; use RequireAndVerifyClientCert or VerifyClientCertIfGiven`);
  }
  const version = (key: string, fallback: SecureVersion | undefined): SecureVersion | undefined => {
    const name = text(key, false);
    if (name === undefined) return fallback;
    const v = VERSIONS[name];
    if (!v) problems.push(`${at(key)}: must be one of ${Object.keys(VERSIONS).join(", ")}`);
    return v ?? fallback;
  };
  // TLS 1.2 is the exporter-toolkit's default minimum as well as node's.
  const minVersion = version("min_version", "TLSv1.2") ?? "TLSv1.2";
  const maxVersion = version("max_version", undefined);
  if (maxVersion && ORDER.indexOf(maxVersion) < ORDER.indexOf(minVersion)) problems.push(`${at("max_version")}: is below min_version`);

  // Reading is not enough: a key that does not match the certificate, or a file that is not
  // PEM, must fail at start-up rather than on the first scrape's handshake.
  if (cert && key) {
    try {
      createSecureContext({ cert, key });
    } catch (err) {
      problems.push(`tls_server_config: cert_file and key_file are not a usable certificate and private key: ${errorMessage(err)}`);
    }
  }
  if (ca && !/-----BEGIN CERTIFICATE-----/.test(ca.toString("latin1"))) {
    problems.push(`${at("client_ca_file")}: contains no PEM certificate`);
  }
  if (problems.length > before || !cert || !key || !clientAuth) return undefined;
  return { cert, key, ...(ca ? { ca } : {}), clientAuth, minVersion, ...(maxVersion ? { maxVersion } : {}) };
}

/**
 * True for a plain YAML mapping (not a list, not a scalar).
 *
 * @example
 * ```ts
 * isMapping({ a: 1 }); // true
 * isMapping([1]);      // false
 * ```
 */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
