/** node:https options for a `tls_server_config`, with Go's client-certificate policies. */
import { createServer, type Server, type ServerOptions } from "node:https";
import type { RequestListener } from "node:http";
import type { TLSSocket } from "node:tls";
import type { WebTlsConfig } from "./web-config-tls.js";

/**
 * Creates the HTTPS server. Node only knows "request a certificate" and "reject unverified
 * ones", so the two Go policies in between (RequireAnyClientCert, VerifyClientCertIfGiven)
 * are enforced right after each handshake by closing the connection, as Go's server would
 * fail the handshake.
 *
 * @example
 * ```ts
 * const server = createTlsServer(webConfig.tls, (req, res) => res.end("ok"));
 * server.listen(9091);
 * ```
 */
export function createTlsServer(tls: WebTlsConfig, listener: RequestListener, limits: Pick<ServerOptions, "headersTimeout" | "requestTimeout" | "connectionsCheckingInterval" | "handshakeTimeout"> = {}): Server {
  const options: ServerOptions = {
    ...limits,
    cert: tls.cert,
    key: tls.key,
    minVersion: tls.minVersion,
    ...(tls.maxVersion ? { maxVersion: tls.maxVersion } : {}),
    ...(tls.ca ? { ca: tls.ca } : {}),
    requestCert: tls.clientAuth !== "NoClientCert",
    rejectUnauthorized: tls.clientAuth === "RequireAndVerifyClientCert",
  };
  const server = createServer(options, listener);
  if (tls.clientAuth === "RequireAnyClientCert" || tls.clientAuth === "VerifyClientCertIfGiven") {
    server.on("secureConnection", (socket: TLSSocket) => {
      const cert = socket.getPeerCertificate();
      const given = Object.keys(cert).length > 0;
      if (tls.clientAuth === "RequireAnyClientCert" ? !given : given && !socket.authorized) socket.destroy();
    });
  }
  return server;
}
