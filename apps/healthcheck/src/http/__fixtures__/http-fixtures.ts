/** Shared pieces of the HTTP tests: results, a counting fake state, a request helper, openssl certs. */
import { execFileSync, spawnSync } from "node:child_process";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createMetrics, type DbHealthMetrics, type ProbeResult } from "@alfred/db-health-core";
import type { HttpState } from "../http-server.js";

/** A ProbeResult with everything filled in; override what the test is about. */
export const result = (over: Partial<ProbeResult> = {}): ProbeResult => ({
  target: "orders",
  driver: "postgres",
  endpoint: "postgres://app@db:5432/orders",
  status: "up",
  role: "primary",
  readOnly: false,
  problems: [],
  phases: {
    connect: { ok: true, ms: 3.25 },
    ping: { ok: true, ms: 0.412 },
    role: { ok: true, ms: 0.3 },
    write: { ok: true, ms: 1.875 },
    read: { ok: true, ms: 0.6125 },
  },
  attempts: 1,
  connections: 7,
  startedAt: Date.now(),
  durationMs: 6.5,
  ...over,
});

/** An HttpState whose probe() counts calls, takes `delayMs`, and records like the daemon does. */
export interface FakeState extends HttpState {
  calls: Map<string, number>;
  latest: Map<string, ProbeResult>;
  /** What the next probe of a target returns (default: up). */
  next: Map<string, Partial<ProbeResult>>;
  readyValue?: { ok: boolean; reason?: string };
}

export function fakeState(targets: string[], options: { delayMs?: number; metrics?: DbHealthMetrics } = {}): FakeState {
  const metrics = options.metrics ?? createMetrics();
  const latest = new Map<string, ProbeResult>();
  const calls = new Map<string, number>();
  const next = new Map<string, Partial<ProbeResult>>();
  const state: FakeState = {
    metrics,
    targets,
    calls,
    latest,
    next,
    results: () => latest,
    probe: async (target) => {
      calls.set(target, (calls.get(target) ?? 0) + 1);
      const startedAt = Date.now();
      await new Promise((r) => setTimeout(r, options.delayMs ?? 20));
      const r = result({ target, startedAt, durationMs: Date.now() - startedAt, ...next.get(target) });
      latest.set(target, r);
      metrics.observe(r);
      return r;
    },
    ready: () => state.readyValue ?? { ok: true },
  };
  return state;
}

/** What {@link get} returns. */
export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request to a started server; `ca` switches to HTTPS. */
export function get(
  server: { address(): AddressInfo | string | null },
  path: string,
  options: { method?: string; headers?: Record<string, string>; ca?: Buffer; cert?: Buffer; key?: Buffer } = {},
): Promise<Reply> {
  const { port } = server.address() as AddressInfo;
  const tls = options.ca !== undefined;
  const request = tls ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: options.headers ?? {},
        // A fresh connection per request keeps keep-alive sockets from outliving server.close().
        agent: false,
        ...(tls ? { ca: options.ca, cert: options.cert, key: options.key } : {}),
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** `Authorization` header value for Basic auth. */
export const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/**
 * A self-signed certificate for 127.0.0.1 made with openssl; being self-signed it is also the
 * CA a client trusts it with.
 */
export function selfSigned(dir: string, name: string): { certFile: string; keyFile: string } {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", `/CN=${name}`,
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
  ], { stdio: "pipe" });
  return { certFile, keyFile };
}

/** `promtool check metrics` findings, one per line; undefined when promtool is not installed. */
export function promtoolFindings(text: string): string[] | undefined {
  const promtool = process.env.PROMTOOL ?? "promtool";
  if (spawnSync(promtool, ["--version"]).status !== 0) {
    // CI installs promtool (.ci/run): there a missing one is a failure, not a skip.
    if (process.env.CI) throw new Error(`${promtool} is not installed, and CI must run the promtool checks`);
    return undefined;
  }
  const r = spawnSync(promtool, ["check", "metrics"], { input: text, encoding: "utf8" });
  return `${r.stdout}${r.stderr}`.split("\n").map((l) => l.trim()).filter(Boolean);
}
