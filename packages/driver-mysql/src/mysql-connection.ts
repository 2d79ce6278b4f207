import { connect, isIP } from "node:net";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import mysql from "mysql2";
import type { MysqlSettings, SslAttempt } from "./mysql-options.js";
import { SQL } from "./sql.js";

/**
 * Opens one mysql2 connection, trying each TLS attempt of `settings.ssl` in turn (a server
 * without TLS support under `ssl-mode=preferred` is tried again in the clear). `onOpening` gets
 * each connection while it is being opened, so a destroy can reach it; `watch` is attached before
 * connecting: mysql2 emits 'end' when the server closes the socket and then 'error'
 * (PROTOCOL_CONNECTION_LOST), which unhandled would crash the process.
 */
export async function openConnection(settings: MysqlSettings, onOpening: (c: mysql.Connection | undefined) => void, watch: (c: mysql.Connection) => void): Promise<mysql.Connection> {
  let last: unknown;
  for (const ssl of settings.ssl) {
    try {
      return await openOnce(settings, ssl, onOpening, watch);
    } catch (err) {
      last = err;
      if (!(ssl && settings.ssl.length > 1 && (err as { code?: string }).code === "HANDSHAKE_NO_SSL_SUPPORT")) break;
    }
  }
  throw last;
}

function openOnce(settings: MysqlSettings, ssl: SslAttempt, onOpening: (c: mysql.Connection | undefined) => void, watch: (c: mysql.Connection) => void): Promise<mysql.Connection> {
  const { checkAddress, ...tlsOptions } = ssl || {};
  return new Promise((resolve, reject) => {
    const c = mysql.createConnection({ ...settings.connection, ...(ssl ? { ssl: tlsOptions as mysql.SslOptions } : {}) });
    onOpening(c);
    watch(c);
    c.connect((err) => {
      onOpening(undefined);
      const wrong = err ? undefined : checkAddress && addressNotInCertificate(c, checkAddress);
      if (err || wrong) {
        c.destroy();
        reject(err ?? wrong);
      } else resolve(c);
    });
  });
}

/** VERIFY_IDENTITY for an IP address, which mysql2 checks as `localhost`: the address against the certificate's IP SANs. */
function addressNotInCertificate(c: mysql.Connection, address: string): Error | undefined {
  const socket = (c as unknown as { stream?: { getPeerCertificate?: () => PeerCertificate } }).stream;
  const cert = socket?.getPeerCertificate?.();
  if (!cert || Object.keys(cert).length === 0) return new Error(`no server certificate to check ${address} against (VERIFY_IDENTITY)`);
  return checkServerIdentity(address, cert);
}

/** A graceful end waits for the server; a hung server must not hang close(), so it is bounded. */
export function endOrDestroy(c: mysql.Connection, timeoutMs = 1000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      c.destroy();
      resolve();
    }, timeoutMs);
    c.end(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Best effort, bounded: a second connection asks the server to stop `victim`'s statement. It goes
 * where the victim's socket is connected, not where the host name points now (after a DNS
 * failover, or with a name of several addresses, that is another server, where the same thread
 * id is someone else's), and with the TLS settings the victim connected with (a server that
 * requires secure transport refuses the KILL in the clear). A victim whose socket no longer has
 * an address, reached by a host name, gets no KILL: the name may mean another server now.
 */
export function killQuery(settings: MysqlSettings, victim: mysql.Connection): void {
  const threadId = victim.threadId;
  if (!threadId) return;
  const { stream, config } = victim as unknown as { stream?: { remoteAddress?: unknown }; config?: { ssl?: unknown } };
  const { host, port = 3306, socketPath } = settings.connection;
  const address = typeof stream?.remoteAddress === "string" && stream.remoteAddress !== "" ? stream.remoteAddress : undefined;
  // A socket that no longer tells where it is, reached by a name: the name may give another
  // server now, so no KILL at all rather than one that could stop someone else's statement.
  if (!socketPath && !address && (typeof host !== "string" || isIP(host) === 0)) return;
  const killer = mysql.createConnection({
    ...settings.connection,
    ...(config?.ssl ? { ssl: config.ssl as mysql.SslOptions } : {}),
    // The host stays the name, for TLS (SNI and identity); only the socket goes to the address.
    ...(address && !socketPath ? { stream: () => connect(port, address) } : {}),
    connectTimeout: 1000,
  });
  const timer = setTimeout(() => killer.destroy(), 1500);
  killer.on("error", () => undefined);
  killer.query(SQL.killQuery, [threadId], () => {
    clearTimeout(timer);
    killer.destroy();
  });
}
