/**
 * A real Prometheus (Debian's package) for a test: started on a free loopback port with the
 * given configuration, its HTTP API queried, stopped and its data removed by `stop()`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "@alfred/db-health-testkit";

/** Where Prometheus is: `$PROMETHEUS` or Debian's. */
export const PROMETHEUS = process.env.PROMETHEUS ?? "/usr/bin/prometheus";
/** Whether it is installed; CI installs it, a machine without it skips with a printed reason. */
export const HAVE_PROMETHEUS = existsSync(PROMETHEUS);

/** One sample of an instant query. */
export type Sample = { metric: Record<string, string>; value: [number, string] };
/** A target as /api/v1/targets lists it. */
export type ActiveTarget = { labels: Record<string, string>; scrapeUrl: string; health: string; scrapePool: string; lastError: string };

/** A running Prometheus. */
export interface RunningPrometheus {
  /** `http://127.0.0.1:PORT` */
  api: string;
  query(promql: string): Promise<Sample[]>;
  targets(): Promise<{ active: ActiveTarget[]; dropped: Array<{ discoveredLabels: Record<string, string> }> }>;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts Prometheus with `config` (YAML text) and waits until its API answers.
 *
 * @example
 * ```ts
 * const prom = await startPrometheus("global: { scrape_interval: 1s }\nscrape_configs: []\n");
 * await prom.query("up");
 * await prom.stop();
 * ```
 */
export async function startPrometheus(config: string): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), "dbh-prom-run-"));
  writeFileSync(join(dir, "prometheus.yml"), config);
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  let logs = "";
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout!.on("data", (b: Buffer) => (logs += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const get = async <T>(path: string): Promise<T | undefined> => {
    const res = await fetch(`${api}${path}`).catch(() => undefined);
    return res?.ok ? ((await res.json()) as { data: T }).data : undefined;
  };
  try {
    let gone = false;
    void exited.then(() => (gone = true));
    // A configuration Prometheus refuses ends the process: say so at once, with its words.
    await waitFor("Prometheus to answer", async () => (gone ? "exited" : get<unknown>("/api/v1/status/buildinfo")), (d) => d !== undefined, 30_000, 100);
    if (gone) throw new Error("Prometheus exited");
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${logs.slice(-1500)}`);
  }
  return {
    api,
    query: async (promql) => (await get<{ result: Sample[] }>(`/api/v1/query?query=${encodeURIComponent(promql)}`))?.result ?? [],
    targets: async () => (await get<{ activeTargets: ActiveTarget[]; droppedTargets: Array<{ discoveredLabels: Record<string, string> }> }>("/api/v1/targets").then((d) => d && { active: d.activeTargets, dropped: d.droppedTargets })) ?? { active: [], dropped: [] },
    logs: () => logs,
    stop,
  };
}
