/** The bounds of the HTTP server, in one object that the README's "HTTP limits" table mirrors. */

/**
 * Every bound of the HTTP server, in one place (the README's "HTTP limits" lists them). Sockets
 * that send nothing useful must not starve `/healthz`: a socket must send a complete request
 * head within `headersTimeoutMs` of connecting (Node applies it from the accept, zero bytes
 * included) and between keep-alive requests may idle `keepAliveTimeoutMs`; when
 * `maxConnections` sockets are open, or one client has `maxConnectionsPerClient`, a new socket
 * evicts the oldest idle one (never one serving a request). Prometheus sends a scrape request in
 * one go, so none of these touches a real scrape.
 *
 * @example
 * ```ts
 * const server = createServer({ headersTimeout: HTTP_LIMITS.headersTimeoutMs }, handler);
 * server.keepAliveTimeout = HTTP_LIMITS.keepAliveTimeoutMs;
 * ```
 */
export const HTTP_LIMITS = {
  /** a new socket's first request head, and each later one, must arrive within this */
  headersTimeoutMs: 3_000,
  /** the whole request (head and body) must arrive within this */
  requestTimeoutMs: 10_000,
  /** HTTPS: the TLS handshake must finish within this (the head's clock starts after it) */
  handshakeTimeoutMs: 5_000,
  /** an idle keep-alive socket is closed after this */
  keepAliveTimeoutMs: 5_000,
  /** a keep-alive socket is closed after this many requests (the last answer says `Connection: close`) */
  maxRequestsPerSocket: 100,
  /** how often Node checks the head and request timeouts */
  checkIntervalMs: 500,
  /** sockets open at once, all clients together */
  maxConnections: 512,
  /** sockets open at once from one client (IPv4 address or IPv6 /64) */
  maxConnectionsPerClient: 256,
  /** after a 400/408/431, how long the socket keeps reading what the client still sends before it is destroyed */
  errorLingerMs: 1_000,
  /** basic auth: password checks queued or running on the bcrypt worker; beyond it `429` at once */
  maxPendingVerifications: 16,
  /** basic auth: a bcrypt check running longer than this fails (`500`) and its worker is replaced */
  verifyTimeoutMs: 30_000,
} as const;
