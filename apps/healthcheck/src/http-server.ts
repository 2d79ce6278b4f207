import { createServer, type Server } from "node:http";
import type { DbHealthMetrics, ProbeResult } from "@alfred/db-health-core";

/** What the HTTP endpoints read. */
export interface HttpState {
  metrics: DbHealthMetrics;
  /** Latest result per target name; a target that has not finished a cycle is absent. */
  results(): ReadonlyMap<string, ProbeResult>;
  /** Names of every configured target. */
  targets: readonly string[];
}

/**
 * Serves `/metrics` (Prometheus text), `/healthz` (the process is alive) and `/readyz` (every
 * target's last cycle was up; 503 otherwise). Nothing else; no endpoint ever touches a
 * database, so a scrape storm cannot reach it.
 *
 * @example
 * ```ts
 * const server = await startHttpServer(state, { host: "127.0.0.1", port: 9091 }, (err) => log.error(err));
 * ```
 */
export async function startHttpServer(
  state: HttpState,
  listen: { host: string | undefined; port: number },
  onError: (err: Error) => void,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/metrics") {
      state.metrics.render().then(
        (body) => res.writeHead(200, { "content-type": state.metrics.registry.contentType }).end(body),
        () => res.writeHead(500, { "content-type": "text/plain" }).end("metrics unavailable\n"),
      );
    } else if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const results = state.results();
      const notReady = state.targets.filter((t) => results.get(t)?.status !== "up");
      res
        .writeHead(notReady.length === 0 ? 200 : 503, { "content-type": "text/plain" })
        .end(notReady.length === 0 ? "ready\n" : `not ready: ${notReady.join(", ")}\n`);
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics, /healthz or /readyz\n");
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      // After start-up a server error (EMFILE, a broken socket) is logged, never fatal.
      server.on("error", onError);
      resolve();
    });
  });
  return server;
}
