/**
 * A CA and a server certificate signed by it, so clients can verify the chain including the host
 * name: SAN covers 127.0.0.1 and localhost. EC keys: generating them takes milliseconds where RSA
 * takes noticeably longer.
 */
import { chmod, cp, mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { giveTo, run } from "./exec.js";
import type { Layout } from "./layout.js";

const OPENSSL_TIMEOUT_MS = 20_000;

/** Days the server certificate is valid when `ssl: true` gives none. */
export const DEFAULT_CERT_DAYS = 3;

/**
 * Writes ca.crt, server.crt and server.key into layout.tlsDir; returns the CA's path. The server
 * certificate is valid from now for `days` (its notAfter is a known date for expiry tests); the CA
 * for at least as long.
 */
export async function makeTls(layout: Layout, days = DEFAULT_CERT_DAYS): Promise<string> {
  if (!Number.isInteger(days) || days < 1) throw new Error(`ssl.days must be a whole number of days ≥ 1, not ${days}`);
  const dir = layout.tlsDir;
  await mkdir(dir);
  const f = (name: string): string => join(dir, name);
  const ossl = (args: string[]): Promise<unknown> => run("openssl", args, { cwd: dir, timeoutMs: OPENSSL_TIMEOUT_MS });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await ossl([
    "req", "-x509", ...ec, "-days", String(Math.max(days, DEFAULT_CERT_DAYS)), "-subj", "/CN=db-health test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    "-keyout", f("ca.key"), "-out", f("ca.crt"),
  ]);
  await ossl(["req", "-new", ...ec, "-subj", "/CN=127.0.0.1", "-keyout", f("server.key"), "-out", f("server.csr")]);
  await writeFile(
    f("server.ext"),
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
  );
  await ossl([
    "x509", "-req", "-in", f("server.csr"), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial",
    "-days", String(days), "-extfile", f("server.ext"), "-out", f("server.crt"),
  ]);
  await secure(layout);
  return f("ca.crt");
}

/** The `days` of an `ssl` option, or undefined for no TLS. */
export function tlsDays(ssl: boolean | { days?: number } | undefined): number | undefined {
  if (ssl === undefined || ssl === false) return undefined;
  return ssl === true ? DEFAULT_CERT_DAYS : (ssl.days ?? DEFAULT_CERT_DAYS);
}

/** A replica gets its own copy of the primary's TLS files, so destroying the primary first cannot break it. */
export async function copyTls(from: Layout, to: Layout): Promise<string> {
  await cp(from.tlsDir, to.tlsDir, { recursive: true });
  await secure(to);
  return join(to.tlsDir, "ca.crt");
}

/** The server's user must own the key, and servers refuse a key readable by group or world. */
async function secure(layout: Layout): Promise<void> {
  await chmod(layout.tlsDir, 0o755);
  await giveTo(layout.owner, layout.tlsDir);
  for (const name of await readdir(layout.tlsDir)) {
    await chmod(join(layout.tlsDir, name), name.endsWith(".key") ? 0o600 : 0o644);
    await giveTo(layout.owner, join(layout.tlsDir, name));
  }
}
