/**
 * `/`: what a person opening the exporter in a browser sees, like the exporter toolkit's landing
 * page (name, version, links to the endpoints), plus the configured targets and their last
 * status. curl and other clients that do not ask for HTML get the same as plain text.
 */
import type { ProbeResult } from "@alfred/db-health-core";
import { TEXT } from "./respond.js";

/** What the page shows. */
export interface LandingInput {
  version: string;
  /** The git commit the exporter was built from, or "unknown". */
  revision?: string;
  /** Path of the metrics endpoint (`--web.telemetry-path`). */
  telemetryPath: string;
  targets: readonly string[];
  results(): ReadonlyMap<string, ProbeResult>;
}

/** A page ready to send: body, content type and the headers it needs. */
export interface LandingPage {
  body: string;
  contentType: string;
  headers: Record<string, string>;
}

/** The endpoints in the order the page lists them; the metrics path is the configured one. */
export const endpointList = (telemetryPath: string): string => `${telemetryPath}, /probe?target=NAME, /healthz, /readyz, /health`;

/**
 * HTML when the client asks for it (browsers send `Accept: text/html,…`), else plain text. Every
 * value on the page is escaped; the HTML loads nothing and runs nothing (a strict
 * Content-Security-Policy says so to the browser too).
 *
 * @example
 * ```ts
 * const page = landingPage({ version: "1.0.0", telemetryPath: "/metrics", targets, results }, req.headers.accept);
 * send(res, 200, page.body, page.contentType, page.headers);
 * ```
 */
export function landingPage(input: LandingInput, accept: string | undefined): LandingPage {
  const results = input.results();
  const rows = input.targets.map((target) => ({ target, result: results.get(target) }));
  if (!wantsHtml(accept)) {
    const width = Math.max(0, ...input.targets.map((t) => t.length));
    const lines = rows.map(({ target, result }) => `  ${target.padEnd(width)}  ${statusText(result)}`);
    const body = `db-health healthcheck ${input.version}${revisionText(input.revision)}\nendpoints: ${endpointList(input.telemetryPath)}\ntargets:\n${lines.join("\n")}\n`;
    return { body, contentType: TEXT, headers: {} };
  }
  const link = (path: string, text: string): string => `<a href="${escapeHtml(`.${path}`)}">${escapeHtml(text)}</a>`;
  const body = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>db-health healthcheck</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 0.25rem 1rem 0.25rem 0; border-bottom: 1px solid #ddd; vertical-align: top; }
.up { color: #1a7f37; } .degraded { color: #9a6700; } .down { color: #cf222e; } .unknown { color: #6e7781; }
</style>
</head>
<body>
<h1>db-health healthcheck</h1>
<p>Probes databases (connect, ping, write a row, read it back) and exports the results to Prometheus.</p>
<p>Version ${escapeHtml(input.version)}${input.revision ? `, revision <code>${escapeHtml(input.revision)}</code>` : ""}</p>
<h2>Endpoints</h2>
<ul>
<li>${link(input.telemetryPath, input.telemetryPath)}: every target's metrics from the exporter's own cycles, and the exporter's process</li>
<li><code>/probe?target=NAME</code>: one target's metrics, probed on demand (links below)</li>
<li>${link("/healthz", "/healthz")}: liveness</li>
<li>${link("/readyz", "/readyz")}: readiness, with a reason per target that is not up</li>
<li>${link("/health", "/health")}: health-check JSON (application/health+json)</li>
</ul>
<h2>Targets</h2>
<table>
<tr><th>target</th><th>engine</th><th>status</th><th>last cycle ended</th><th>reason</th><th></th></tr>
${rows.map(({ target, result }) => row(target, result, link)).join("\n")}
</table>
</body>
</html>
`;
  return {
    body,
    contentType: "text/html; charset=utf-8",
    headers: { "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" },
  };
}

function row(target: string, r: ProbeResult | undefined, link: (path: string, text: string) => string): string {
  const status = r?.status ?? "unknown";
  const ended = r ? new Date(Math.round(r.startedAt + r.durationMs)).toISOString() : "";
  const cells = [escapeHtml(target), escapeHtml(r?.driver ?? ""), `<span class="${status}">${escapeHtml(statusText(r))}</span>`, ended, escapeHtml(r?.reason ?? ""), link(`/probe?target=${encodeURIComponent(target)}`, "probe")];
  return `<tr>${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`;
}

const statusText = (r: ProbeResult | undefined): string => r?.status ?? "no probe cycle has finished yet";
const revisionText = (revision: string | undefined): string => (revision ? ` (revision ${revision})` : "");

/**
 * Escapes text for HTML element content and quoted attribute values.
 *
 * @example
 * ```ts
 * escapeHtml(`<a href="x">&'`); // "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** Whether the client prefers HTML: it names text/html with a non-zero quality. */
function wantsHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept
    .toLowerCase()
    .split(",")
    .some((part) => {
      const [type = "", ...params] = part.split(";").map((p) => p.trim());
      const q = params.find((p) => p.startsWith("q="));
      return type === "text/html" && (q === undefined || Number(q.slice(2)) > 0);
    });
}
