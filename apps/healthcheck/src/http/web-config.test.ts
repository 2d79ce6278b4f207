import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDbHealthError } from "@alfred/db-health-core";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selfSigned } from "./__fixtures__/http-fixtures.js";
import { loadWebConfig } from "./web-config.js";

const dir = mkdtempSync(join(tmpdir(), "dbh-webcfg-"));
let hash: string;
beforeAll(() => {
  mkdirSync(join(dir, "certs"));
  selfSigned(join(dir, "certs"), "server");
  selfSigned(join(dir, "certs"), "other");
  hash = bcrypt.hashSync("s3cret-pass", 4);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** The message of the config error `loadWebConfig` throws. */
async function problems(path: string): Promise<string> {
  try {
    await loadWebConfig(path);
  } catch (err) {
    expect(isDbHealthError(err) && err.kind).toBe("config");
    return (err as Error).message;
  }
  throw new Error("expected a config error");
}

describe("loadWebConfig", () => {
  it("reads TLS files relative to the config file and the bcrypt users", async () => {
    const path = file(
      "ok.yml",
      [
        "tls_server_config:",
        "  cert_file: certs/server.crt",
        "  key_file: certs/server.key",
        "  client_ca_file: certs/other.crt",
        "  client_auth_type: RequireAndVerifyClientCert",
        "  min_version: TLS13",
        "basic_auth_users:",
        `  prometheus: ${hash}`,
        `  grafana: '${hash.replace("$2b$", "$2y$")}'`,
      ].join("\n"),
    );
    const config = await loadWebConfig(path);
    expect(config.file).toBe(path);
    expect(config.tls?.cert.toString()).toContain("BEGIN CERTIFICATE");
    expect(config.tls?.key.toString()).toContain("PRIVATE KEY");
    expect(config.tls?.ca?.toString()).toContain("BEGIN CERTIFICATE");
    expect(config.tls).toMatchObject({ clientAuth: "RequireAndVerifyClientCert", minVersion: "TLSv1.3" });
    expect([...(config.basicAuthUsers?.keys() ?? [])]).toEqual(["prometheus", "grafana"]);
  });

  it("accepts an empty file (plain HTTP, no auth) and defaults TLS to 1.2 without client certs", async () => {
    expect(await loadWebConfig(file("empty.yml", ""))).toEqual({ file: join(dir, "empty.yml") });
    const tlsOnly = await loadWebConfig(file("tls.yml", "tls_server_config:\n  cert_file: certs/server.crt\n  key_file: certs/server.key\n"));
    expect(tlsOnly.tls).toMatchObject({ clientAuth: "NoClientCert", minVersion: "TLSv1.2" });
    expect(tlsOnly.basicAuthUsers).toBeUndefined();
  });

  it("lists every problem at once and never echoes a hash value", async () => {
    const message = await problems(
      file(
        "bad.yml",
        [
          "tls_server_config:",
          "  cert_file: certs/missing.crt",
          "  key_file: certs/server.key",
          "  client_auth_type: Sometimes",
          "  min_version: SSL3",
          "  cipher_suites: [TLS_AES_128_GCM_SHA256]",
          "basic_auth_users:",
          "  alice: plaintext-password",
          "  bob: $1$md5$notbcrypt",
          `  'c:d': ${hash}`,
          "http_server_config: { http2: true }",
          "web_listen: :9091",
        ].join("\n"),
      ),
    );
    expect(message).toMatch(/^invalid web config .*bad\.yml:$/m);
    for (const line of [
      /^ {2}web_listen: unknown key \(known: tls_server_config, basic_auth_users\)$/m,
      /^ {2}http_server_config: not supported by healthcheck/m,
      /^ {2}tls_server_config\.cert_file: cannot read "certs\/missing\.crt": .*ENOENT/m,
      /^ {2}tls_server_config\.client_auth_type: must be one of NoClientCert, /m,
      /^ {2}tls_server_config\.min_version: must be one of TLS10, TLS11, TLS12, TLS13$/m,
      /^ {2}tls_server_config\.cipher_suites: not supported by healthcheck/m,
      /^ {2}basic_auth_users\.alice: not a bcrypt hash/m,
      /^ {2}basic_auth_users\.bob: not a bcrypt hash/m,
      /^ {2}basic_auth_users\.c:d: a user name must be non-empty and contain no ":"/m,
    ]) {
      expect(message).toMatch(line);
    }
    expect(message.split("\n")).toHaveLength(10);
    expect(message).not.toContain("plaintext-password");
    expect(message).not.toContain("notbcrypt");
  });

  it("rejects a key that does not belong to the certificate, and TLS without a key", async () => {
    const mismatch = await problems(file("mismatch.yml", "tls_server_config:\n  cert_file: certs/server.crt\n  key_file: certs/other.key\n"));
    expect(mismatch).toMatch(/cert_file and key_file are not a usable certificate and private key: .*key values mismatch/);
    const noKey = await problems(file("nokey.yml", "tls_server_config:\n  cert_file: certs/server.crt\n"));
    expect(noKey).toMatch(/tls_server_config\.key_file: required/);
    const notPem = await problems(file("notpem.yml", "tls_server_config:\n  cert_file: bad.yml\n  key_file: bad.yml\n"));
    expect(notPem).toMatch(/not a usable certificate/);
  });

  it("rejects a client CA without a verifying policy and a verifying policy without a CA", async () => {
    const caOnly = await problems(file("ca.yml", "tls_server_config:\n  cert_file: certs/server.crt\n  key_file: certs/server.key\n  client_ca_file: certs/other.crt\n"));
    expect(caOnly).toMatch(/client_ca_file: set client_auth_type too/);
    const policyOnly = await problems(
      file("policy.yml", "tls_server_config:\n  cert_file: certs/server.crt\n  key_file: certs/server.key\n  client_auth_type: RequireAndVerifyClientCert\n"),
    );
    expect(policyOnly).toMatch(/RequireAndVerifyClientCert needs client_ca_file/);
  });

  it("reports YAML syntax errors, a non-mapping file, empty users and an unreadable file", async () => {
    expect(await problems(file("syntax.yml", "basic_auth_users:\n  a: 1\n  a: 2\n"))).toMatch(/YAML at line 3, column 3: .*unique/i);
    expect(await problems(file("list.yml", "- a\n- b\n"))).toMatch(/must be a YAML mapping/);
    expect(await problems(file("nousers.yml", "basic_auth_users: {}\n"))).toMatch(/basic_auth_users: must map at least one user/);
    expect(await problems(join(dir, "nope.yml"))).toMatch(/^web config .*nope\.yml: cannot read the file: .*ENOENT/);
  });

  it("refuses special files and files over 1 MiB without blocking, and YAML nested too deep", async () => {
    const fifo = join(dir, "web.fifo");
    execFileSync("mkfifo", [fifo]);
    expect(await problems(fifo)).toBe(`web config ${fifo}: cannot read the file: it is a FIFO, not a regular file`);
    expect(await problems("/dev/zero")).toBe("web config /dev/zero: cannot read the file: it is a character device, not a regular file");
    const big = file("big.yml", "");
    truncateSync(big, 1024 * 1024 + 1);
    expect(await problems(big)).toBe(`web config ${big}: cannot read the file: it is 1 MiB, over the 1 MiB limit for a web config file`);
    expect(await problems(file("deep.yml", `basic_auth_users: ${"[".repeat(100_000)}`))).toMatch(/^web config .*deep\.yml: YAML at line 1: nested deeper than 64 levels /);
    const pems = await problems(file("pems.yml", `tls_server_config:\n  cert_file: /dev/zero\n  key_file: ${fifo}\n`));
    expect(pems).toContain(`tls_server_config.cert_file: cannot read "/dev/zero": it is a character device, not a regular file`);
    expect(pems).toContain(`tls_server_config.key_file: cannot read "${fifo}": it is a FIFO, not a regular file`);
  });
});
