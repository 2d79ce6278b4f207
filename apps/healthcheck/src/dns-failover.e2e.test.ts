import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { privateHosts, tcpProxy, waitFor, type TcpProxy } from "@alfred/db-health-testkit";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CLI } from "./__fixtures__/cli-path.js";

// A DNS failover, for real: the daemon runs in a mount namespace of its own where /etc/hosts is
// a file of this test's, and a host name that resolved to one "node" (a proxy on 127.0.0.2 to
// the machine's PostgreSQL or MariaDB) is switched to another (the same port on 127.0.0.3), as a
// Kubernetes Service, a cloud endpoint or a CNAME is switched to a new primary. The old node
// stays up and writable, so a persistent connection that stays on it reports `up` for a server
// the name no longer names. The name must be followed: down while nothing answers at the new
// address, then up there, with nothing left open on the old node.
const NAME = "db-primary.dbh-failover.test";
const dir = mkdtempSync(join(tmpdir(), "dbh-failover-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hosts = privateHosts(join(dir, "hosts"), { [NAME]: "127.0.0.2" });
if (hosts.unavailable) console.warn(`dns-failover.e2e.test.ts skipped: ${hosts.unavailable}`);

let daemon: ChildProcess | undefined;
const proxies: TcpProxy[] = [];
afterEach(async () => {
  daemon?.kill("SIGKILL");
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

async function startDaemon(config: string): Promise<string> {
  const [file, args] = hosts.command([process.execPath, CLI, "--config", config, "--export-prom", "127.0.0.1:0", "--log-level", "info"]);
  daemon = spawn(file, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, DB_HEALTH_DSN: "", DB_HEALTH_CONFIG: "" } });
  let logs = "";
  daemon.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
  return waitFor("the daemon's address", async () => /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(logs)?.[1], (base) => base !== undefined, 20_000).then((b) => b!);
}

type Checks = Record<string, Array<{ status: string; output?: string }>>;
const connection = async (base: string, target: string): Promise<{ status: string; output?: string } | undefined> =>
  ((await (await fetch(`${base}/health`)).json()) as { checks: Checks }).checks[`${target}:connection`]?.[0];

describe.skipIf(hosts.unavailable !== undefined)("a persistent connection after its host name moved (DNS failover)", () => {
  it("follows the name: down while the new address refuses, then up there, and nothing left on the old node", async () => {
    hosts.write({ [NAME]: "127.0.0.2" });
    const oldPg = await tcpProxy({ to: 5432, host: "127.0.0.2" });
    const oldMy = await tcpProxy({ to: 3306, host: "127.0.0.2" });
    proxies.push(oldPg, oldMy);
    const ports = { pg: oldPg.port, my: oldMy.port };
    const config = join(dir, "failover.yaml");
    writeFileSync(
      config,
      JSON.stringify({
        defaults: { interval: "1s", connectTimeout: "2s" },
        targets: [
          { name: "pg", dsn: `postgres://postgres@${NAME}:${ports.pg}/test` },
          { name: "my", dsn: `mysql://root@tcp(${NAME}:${ports.my})/test` },
        ],
      }),
    );
    const base = await startDaemon(config);
    for (const t of ["pg", "my"]) await waitFor(`${t} up on the old node`, () => connection(base, t), (c) => c?.status === "pass", 20_000);
    expect([oldPg.open(), oldMy.open()]).toEqual([1, 1]);

    // The name moves to a node that is not up yet: the old one still answers, and must not be probed.
    hosts.write({ [NAME]: "127.0.0.3" });
    for (const [t, port] of [["pg", ports.pg], ["my", ports.my]] as const) {
      const c = await waitFor(`${t} down at the new address`, () => connection(base, t), (c) => c?.status === "fail", 10_000);
      expect(c!.output).toContain(`ECONNREFUSED 127.0.0.3:${port}`);
    }
    await waitFor("the old node's connections closed", async () => oldPg.open() + oldMy.open(), (n) => n === 0, 5_000);

    // The new primary comes up on the name's new address.
    const newPg = await tcpProxy({ to: 5432, host: "127.0.0.3", port: ports.pg });
    const newMy = await tcpProxy({ to: 3306, host: "127.0.0.3", port: ports.my });
    proxies.push(newPg, newMy);
    for (const t of ["pg", "my"]) await waitFor(`${t} up on the new node`, () => connection(base, t), (c) => c?.status === "pass", 10_000);
    expect([newPg.open(), newMy.open(), oldPg.open(), oldMy.open()]).toEqual([1, 1, 0, 0]);
    const accepted = [newPg.accepted(), newMy.accepted()];
    // And stays there: one connection each, reused while the name gives its address.
    await new Promise((r) => setTimeout(r, 2500));
    expect([newPg.accepted(), newMy.accepted()]).toEqual(accepted);
  }, 60_000);
});
