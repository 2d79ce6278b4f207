/** The bounds of the HTTP server, in one object that the "HTTP limits" table of docs/http.md mirrors. */

/**
 * Every bound of the HTTP server, in one place (docs/http.md's "HTTP limits" lists them). Sockets
 * that send nothing useful must not starve `/healthz`: a socket must send a complete request
 * head within `headersTimeoutMs` of connecting (Node applies it from the accept, zero bytes
 * included) and between keep-alive requests may idle `keepAliveTimeoutMs`; when
 * `maxConnections` sockets are open, or one client has `maxConnectionsPerClient`, a new socket
 * evicts the oldest idle one, else preempts the oldest `/probe` that only waits for a probe cycle
 * (never another request). At most `maxProbeWaitersPerTarget` requests wait on one target's
 * cycle. Prometheus sends a scrape request in one go and one per target per scrape interval, so
 * none of these touches a real scrape unless someone floods the server.
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
  /** after a 400/408/431, how long the socket keeps reading what the client still sends before it is destroyed (and a preempted `/probe`'s socket at most stays open) */
  errorLingerMs: 1_000,
  /** an idle socket younger than this (since its accept or last answer) is evicted only when no waiting `/probe` can make way instead */
  idleGraceMs: 250,
  /** `/probe` requests waiting on one target's probe cycle at once; beyond it `503` with `Retry-After`, at once */
  maxProbeWaitersPerTarget: 64,
  /** basic auth: password checks queued or running on the bcrypt worker; beyond it `429` at once */
  maxPendingVerifications: 16,
  /** basic auth: a bcrypt check running longer than this fails (`500`) and its worker is replaced */
  verifyTimeoutMs: 30_000,
} as const;
