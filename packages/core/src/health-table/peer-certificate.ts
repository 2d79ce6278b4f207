/**
 * The expiry of the certificate a database server presented in its TLS handshake, read from the
 * client's socket (no round trip), for a dialect's `certificateExpiry()`.
 */

/** The part of node:tls' TLSSocket this reads (duck-typed: clients wrap their sockets in their own ways). */
interface PeerCertificateSocket {
  encrypted?: boolean;
  getPeerCertificate(detailed?: boolean): { valid_to?: string } | null;
}

/**
 * The server certificate's `notAfter` in milliseconds since the epoch, when `socket` is a TLS
 * socket that completed its handshake; `undefined` for a plain socket, a destroyed one, one
 * without a peer certificate, or anything else.
 *
 * @example
 * ```ts
 * // in a dialect: pg keeps its socket (after the SSL upgrade, a TLSSocket) on client.connection.stream
 * certificateExpiry: () => peerCertificateExpiry(client?.connection?.stream),
 * ```
 */
export function peerCertificateExpiry(socket: unknown): number | undefined {
  if (!isTlsSocket(socket) || socket.encrypted !== true) return undefined;
  let validTo: unknown;
  try {
    // A destroyed socket answers null, one without a peer certificate an empty object.
    validTo = socket.getPeerCertificate(false)?.valid_to;
  } catch {
    return undefined;
  }
  // OpenSSL's form, e.g. "Mar  9 12:00:00 2027 GMT": Date.parse reads it in every Node version.
  const at = typeof validTo === "string" ? Date.parse(validTo) : Number.NaN;
  return Number.isFinite(at) ? at : undefined;
}

function isTlsSocket(socket: unknown): socket is PeerCertificateSocket {
  return typeof socket === "object" && socket !== null && typeof (socket as { getPeerCertificate?: unknown }).getPeerCertificate === "function";
}
