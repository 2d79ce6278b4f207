/**
 * The web config file of the Prometheus exporter-toolkit (`--web.config.file` in the official
 * exporters), so that one file serves node_exporter, postgres_exporter and healthcheck alike.
 * Supported: `tls_server_config` (see web-config-tls.ts) and `basic_auth_users`.
 */
import { dirname, resolve } from "node:path";
import { DbHealthError } from "@alfred/db-health-core";
import { LineCounter, parseDocument } from "yaml";
import { readFileLimited, UnreadableFile } from "@alfred/db-health-core";
import { FILE_LIMITS } from "../config/limits.js";
import { checkYamlShape, shapeMessage } from "../config/yaml-shape.js";
import { isMapping, readTlsServerConfig, type WebTlsConfig } from "./web-config-tls.js";

export type { ClientAuthType, WebTlsConfig } from "./web-config-tls.js";

/** A validated web config: certificate files are already read, hashes already checked. */
export interface WebConfig {
  /** The file it came from (absolute), for messages. */
  file: string;
  /** Serve HTTPS with this, when present. */
  tls?: WebTlsConfig;
  /** User name → bcrypt hash. When present, every endpoint but `/healthz` needs one of them. */
  basicAuthUsers?: ReadonlyMap<string, string>;
}

// What htpasswd -B, Python's bcrypt and Go's x/crypto/bcrypt write; bcryptjs checks all three.
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

const SUPPORTED = ["tls_server_config", "basic_auth_users"];
// Keys the exporter-toolkit knows but healthcheck does not implement: silently ignoring a
// security or server setting would be worse than refusing to start.
const UNSUPPORTED = ["http_server_config", "rate_limit"];

/**
 * Reads and validates an exporter-toolkit web config file. Relative certificate paths are
 * resolved against the file's directory, as the exporter-toolkit does.
 *
 * The file and each PEM file must be regular files (not a FIFO or a device) of at most 1 MiB,
 * and the YAML at most 64 levels deep (see config/limits.ts); they are refused without blocking.
 *
 * @throws {DbHealthError} kind `"config"`, listing every problem (one per line, each starting
 * with the key's path): YAML errors, unknown keys, unreadable or unusable certificate files,
 * values that are not bcrypt hashes. Hash values are never echoed.
 * @example
 * ```ts
 * // web.yml:
 * //   tls_server_config: { cert_file: server.crt, key_file: server.key }
 * //   basic_auth_users: { prometheus: $2b$10$… }
 * const webConfig = await loadWebConfig("web.yml");
 * await startHttpServer(state, { host: undefined, port: 9091 }, { probeCacheMs: 5000, webConfig, onError });
 * ```
 */
export async function loadWebConfig(file: string): Promise<WebConfig> {
  const path = resolve(file);
  let text: string;
  try {
    text = (await readFileLimited(path, FILE_LIMITS.webConfig)).toString("utf8");
  } catch (err) {
    if (!(err instanceof UnreadableFile)) throw err;
    throw new DbHealthError("config", `web config ${path}: cannot read the file: ${err.detail}`);
  }
  const shape = checkYamlShape(text);
  if (shape) throw new DbHealthError("config", `web config ${path}: YAML at line ${shape.line}: ${shapeMessage(shape)}`);
  const problems: string[] = [];
  const config: WebConfig = { file: path };
  // Positions without the library's pretty context: that context would quote the file, and
  // the file may hold a password pasted where a hash belongs.
  const lines = new LineCounter();
  // logLevel "error": the library's warnings go through process.emitWarning, quoting the text.
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: lines, logLevel: "error" });
  for (const e of doc.errors) {
    const { line, col } = lines.linePos(e.pos[0]);
    problems.push(`YAML at line ${line}, column ${col}: ${e.message.split("\n")[0] ?? e.code}`);
  }
  const raw: unknown = problems.length === 0 ? doc.toJS() : undefined;
  if (raw !== undefined && raw !== null && !isMapping(raw)) problems.push("the file must be a YAML mapping of tls_server_config and/or basic_auth_users");
  if (isMapping(raw)) {
    for (const key of Object.keys(raw)) {
      if (UNSUPPORTED.includes(key)) problems.push(`${key}: not supported by healthcheck (supported: ${SUPPORTED.join(", ")})`);
      else if (!SUPPORTED.includes(key)) problems.push(`${key}: unknown key (known: ${SUPPORTED.join(", ")})`);
    }
    if ("basic_auth_users" in raw) {
      const users = readUsers(raw.basic_auth_users, problems);
      if (users) config.basicAuthUsers = users;
    }
    if ("tls_server_config" in raw) {
      const tls = await readTlsServerConfig(raw.tls_server_config, dirname(path), problems);
      if (tls) config.tls = tls;
    }
  }
  if (problems.length > 0) {
    throw new DbHealthError("config", [`invalid web config ${path}:`, ...problems.map((p) => `  ${p}`)].join("\n"));
  }
  return config;
}

function readUsers(value: unknown, problems: string[]): Map<string, string> | undefined {
  if (!isMapping(value) || Object.keys(value).length === 0) {
    // An empty section most likely means users were meant to be there: serving without
    // authentication then would be a silent downgrade.
    problems.push("basic_auth_users: must map at least one user name to a bcrypt hash (remove the key to disable basic auth)");
    return undefined;
  }
  const users = new Map<string, string>();
  for (const [user, hash] of Object.entries(value)) {
    const at = `basic_auth_users.${user}`;
    if (user === "" || user.includes(":")) problems.push(`${at}: a user name must be non-empty and contain no ":" (Basic auth splits on the first colon)`);
    else if (typeof hash !== "string" || !BCRYPT_HASH.test(hash)) {
      problems.push(`${at}: not a bcrypt hash (expected "$2b$<cost>$…" as made by "htpasswd -nBC 10 ${user}" or bcrypt; value not shown)`);
    } else users.set(user, hash);
  }
  return users;
}
