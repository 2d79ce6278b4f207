/**
 * SQL Server's connection limit and the TLS certificate of a tedious connection (issue 19).
 */
import { peerCertificateExpiry } from "@alfred/db-health-core";

/** The most user connections SQL Server allows (`user connections` = 0 means up to this). */
export const MSSQL_MAX_USER_CONNECTIONS = 32_767;

/**
 * `@@MAX_CONNECTIONS` as the limit: the user connections the instance allows. It is 32,767 when
 * the `user connections` option is 0 (the default: as many as needed, up to that maximum), the
 * configured number otherwise, and never 0; a 0 (the option's own way to say "the maximum") is
 * reported as 32,767, never as a limit of 0.
 *
 * @example
 * ```ts
 * mssqlConnectionLimit(0); // 32767
 * mssqlConnectionLimit(500); // 500
 * ```
 */
export function mssqlConnectionLimit(value: unknown): number {
  const n = Number(value);
  if (value === null || value === undefined || !Number.isInteger(n) || n < 0) throw new Error(`@@MAX_CONNECTIONS answered ${String(value)}`);
  return n === 0 ? MSSQL_MAX_USER_CONNECTIONS : n;
}

/** The parts of a tedious Connection this reads. */
interface TlsWatchable {
  on(event: "secure", listener: (cleartext: unknown) => void): unknown;
  socket?: unknown;
}

/**
 * Follows the TLS of the tedious connections an mssql pool opens. tedious wraps TLS in its own
 * way: with `encrypt=true` (TDS 7.x) the handshake travels inside PRELOGIN packets and the
 * TLSSocket sits on a duplex pair (messageIo.securePair.cleartext), announced by the
 * connection's public `secure` event; with `encrypt=strict` (TDS 8) the connection's socket is
 * the TLSSocket itself. Either way the peer certificate is read from there, without a round trip.
 */
export class TediousTls {
  #last: TlsWatchable | undefined;
  readonly #cleartext = new WeakMap<object, unknown>();

  /** Call from mssql's `beforeConnect` for each connection it opens; the latest is the pool's. */
  watch(connection: TlsWatchable): void {
    this.#last = connection;
    connection.on("secure", (cleartext) => this.#cleartext.set(connection, cleartext));
  }

  /** The certificate's notAfter in ms since the epoch; `undefined` without TLS. */
  expiry(): number | undefined {
    const c = this.#last;
    return c ? peerCertificateExpiry(this.#cleartext.get(c) ?? c.socket) : undefined;
  }

  /** Forgets the connections (at close). */
  reset(): void {
    this.#last = undefined;
  }
}
