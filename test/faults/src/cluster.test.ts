import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@alfred/db-health-testkit";
import { startCluster, startMariaServer, type MariaServer, type PgCluster } from "@alfred/db-health-test-servers";

// A cluster view proven on real servers: a PostgreSQL primary, its streaming replica and a second,
// independent primary, all three configured `cluster: main`. The real CLI (dist/cli.cjs) must see
// a split brain (--once and the daemon), then, once the second primary is stopped, one primary.
// MariaDB the same way (a GTID replica of the first server, a second server of its own), with --once.
const CLI = fileURLToPath(new URL("../../../apps/healthcheck/dist/cli.cjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "dbh-cluster-"));
const servers: PgCluster[] = [];
const running: ChildProcess[] = [];
let config = "";
let other: PgCluster;
const SPLIT = "2 primaries in cluster main (pg-other, pg-primary)";

function run(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  running.push(child);
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text() };
}

/** The value of the sample with exactly these name and labels, from an exposition text. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};
const status = (text: string, target: string, role: string, state: string): number | undefined =>
  sample(text, `db_status{db_name="postgres",db_role="${role}",target="${target}",status="${state}"}`);

afterAll(() => {
  for (const c of running) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("cluster view on real PostgreSQL servers: a primary, its replica and an independent primary", () => {
  beforeAll(async () => {
    const primary = await startCluster();
    servers.push(primary);
    const replica = await primary.createReplica();
    servers.push(replica);
    other = await startCluster();
    servers.push(other);
    const target = (name: string, server: PgCluster): string => `  - { name: ${name}, dsn: "${server.dsn()}", cluster: main }\n`;
    config = join(dir, "cluster.yaml");
    writeFileSync(
      config,
      `defaults: { interval: 300ms, connectTimeout: 2s, readTimeout: 2s, writeTimeout: 2s, maxRetries: 0 }\ntargets:\n${target("pg-primary", primary)}${target("pg-replica", replica)}${target("pg-other", other)}`,
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(servers.splice(0).map((s) => s.destroy()));
  });

  it("--once: every member degraded with '2 primaries in cluster main', exit 1 (0 with --degraded-ok), JSON lists the cluster", async () => {
    const text = run(["--once", "--config", config]);
    expect(await text.exited).toBe(1);
    const out = text.output();
    console.log(`--once (text):\n${out}`);
    const rows = out.split("\n").filter((l) => l.startsWith("pg-"));
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatch(new RegExp(`DEGRADED .*${SPLIT.replace(/[()]/g, "\\$&")}$`));
    expect(out).toContain("cluster main: split brain: 2 primaries (pg-other, pg-primary), 3 of 3 members up");

    const json = run(["--once", "--config", config, "--format", "json"]);
    expect(await json.exited).toBe(1);
    const doc = JSON.parse(json.output()) as { status: string; targets: Array<{ target: string; status: string; role: string; detectedRole: string; reason: string }>; clusters: unknown[] };
    expect(doc.status).toBe("degraded");
    expect(doc.targets.map((t) => [t.target, t.status, t.detectedRole, t.reason])).toEqual([
      ["pg-primary", "degraded", "primary", SPLIT],
      ["pg-replica", "degraded", "replica", SPLIT],
      ["pg-other", "degraded", "primary", SPLIT],
    ]);
    expect(doc.clusters).toEqual([{ cluster: "main", members: 3, membersUp: 3, primaries: ["pg-other", "pg-primary"], state: "split-brain", problem: SPLIT }]);

    expect(await run(["--once", "--config", config, "--degraded-ok"]).exited).toBe(0);
  }, 60_000);

  it("daemon: /metrics shows 2 primaries and 3 members up, every member degraded; stopping the second primary brings 1 primary", async () => {
    const daemon = run(["--config", config, "--export-prom", "127.0.0.1:0", "--no-legacy-metrics"]);
    try {
      const port = await waitFor("the daemon's address", async () => /"metrics":"http:\/\/127\.0\.0\.1:(\d+)\/metrics"/.exec(daemon.output())?.[1], (p) => p !== undefined, 30_000);
      const base = `http://127.0.0.1:${port}`;
      const split = await waitFor(
        "2 primaries in /metrics",
        async () => (await get(`${base}/metrics`)).body,
        (t) => sample(t, 'db_cluster_primaries{cluster="main"}') === 2 && status(t, "pg-replica", "replica", "degraded") === 1,
        30_000,
      );
      console.log(`/metrics (split brain):\n${split.split("\n").filter((l) => /^db_(cluster_\w+|status|up)\{/.test(l)).join("\n")}`);
      expect(sample(split, 'db_cluster_members_up{cluster="main"}')).toBe(3);
      expect(sample(split, 'db_cluster_members{cluster="main"}')).toBe(3);
      for (const [target, role] of [["pg-primary", "primary"], ["pg-replica", "replica"], ["pg-other", "primary"]] as const) {
        expect(status(split, target, role, "degraded")).toBe(1);
        expect(sample(split, `db_up{db_name="postgres",db_role="${role}",target="${target}"}`)).toBe(1);
      }
      const ready = await get(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.body).toContain(`pg-replica: degraded: ${SPLIT}`);
      const health = JSON.parse((await get(`${base}/health`)).body) as { status: string; output: string };
      expect(health.status).toBe("warn");
      expect(health.output).toContain(`pg-replica:connection: ${SPLIT}`);

      // Three more cycles of every member later, the split brain is still logged once.
      const pings = (t: string): number[] =>
        (["pg-primary", "pg-replica", "pg-other"] as const).map((target) => sample(t, `db_probe_duration_seconds_count{db_name="postgres",db_role="${target === "pg-replica" ? "replica" : "primary"}",target="${target}",phase="ping"}`) ?? 0);
      const before = pings(split);
      await waitFor("three more cycles of every member", async () => pings((await get(`${base}/metrics`)).body), (n) => n.every((c, i) => c >= before[i]! + 3), 30_000);
      const splitLogged = daemon.output().split("\n").filter((l) => l.includes('"msg":"cluster"') && l.includes('"state":"split-brain"'));
      expect(splitLogged).toHaveLength(1);

      await other.stop();
      const healed = await waitFor(
        "1 primary in /metrics after the second primary stopped",
        async () => (await get(`${base}/metrics`)).body,
        (t) => sample(t, 'db_cluster_primaries{cluster="main"}') === 1 && status(t, "pg-replica", "replica", "up") === 1 && status(t, "pg-primary", "primary", "up") === 1,
        30_000,
      );
      console.log(`/metrics (second primary stopped):\n${healed.split("\n").filter((l) => /^db_(cluster_\w+|status|up)\{/.test(l)).join("\n")}`);
      expect(sample(healed, 'db_cluster_members_up{cluster="main"}')).toBe(2);
      expect(status(healed, "pg-other", "primary", "down")).toBe(1);
      const logs = daemon.output().split("\n").filter((l) => l.includes('"msg":"cluster"'));
      console.log(`cluster log lines:\n${logs.join("\n")}`);
      expect(logs.filter((l) => l.includes('"state":"split-brain"'))).toHaveLength(1);
      expect(logs.at(-1)).toContain('"state":"ok","from":"split-brain","primaries":["pg-primary"]');
    } finally {
      daemon.child.kill("SIGTERM");
      expect(await daemon.exited).toBe(0);
    }
  }, 120_000);
});

describe("cluster view on real MariaDB servers: a primary, its replica and an independent primary", () => {
  const marias: MariaServer[] = [];
  let file = "";
  let second: MariaServer;

  beforeAll(async () => {
    const first = await startMariaServer();
    marias.push(first);
    marias.push(await first.createReplica());
    second = await startMariaServer();
    marias.push(second);
    const [a, b, c] = marias.map((m) => m.dsn());
    file = join(dir, "maria.yaml");
    writeFileSync(
      file,
      `defaults: { connectTimeout: 2s, readTimeout: 2s, writeTimeout: 2s, maxRetries: 0 }
targets:
  - { name: my-primary, dsn: "${a}", cluster: main }
  - { name: my-replica, dsn: "${b}", cluster: main }
  - { name: my-other, dsn: "${c}", cluster: main }
`,
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(marias.splice(0).map((m) => m.destroy()));
  });

  it("--once sees 2 primaries, every member degraded; with the second stopped, 1 primary", async () => {
    const once = async (): Promise<{ code: number | null; doc: { targets: Array<{ target: string; status: string; detectedRole?: string; problems: string[] }>; clusters: Array<{ primaries: string[]; membersUp: number; state: string }> } }> => {
      const r = run(["--once", "--config", file, "--format", "json"]);
      const code = await r.exited;
      return { code, doc: JSON.parse(r.output()) };
    };
    const split = await once();
    expect(split.code).toBe(1);
    expect(split.doc.clusters).toMatchObject([{ primaries: ["my-other", "my-primary"], membersUp: 3, state: "split-brain" }]);
    expect(split.doc.targets.map((t) => [t.target, t.status, t.detectedRole])).toEqual([
      ["my-primary", "degraded", "primary"],
      ["my-replica", "degraded", "replica"],
      ["my-other", "degraded", "primary"],
    ]);
    for (const t of split.doc.targets) expect(t.problems).toContain("2 primaries in cluster main (my-other, my-primary)");

    await second.stop();
    const healed = await once();
    expect(healed.doc.clusters).toMatchObject([{ primaries: ["my-primary"], membersUp: 2, state: "ok" }]);
    const byName = Object.fromEntries(healed.doc.targets.map((t) => [t.target, t]));
    expect(byName["my-other"]?.status).toBe("down");
    for (const name of ["my-primary", "my-replica"]) expect(byName[name]?.problems.filter((p) => p.includes("primaries in cluster"))).toEqual([]);
  }, 60_000);
});
