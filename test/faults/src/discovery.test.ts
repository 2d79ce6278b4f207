import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@alfred/db-health-testkit";

// Discovered targets (/probe?module=&target=) against the real built CLI: listeners of this
// test's own count every connection made to a forbidden port, a forbidden address and an
// allowed one; a preloaded hook logs every name the CLI asks the resolver for; the machine's
// PostgreSQL and MariaDB are probed inside the allow lists.
const CLI = fileURLToPath(new URL("../../../apps/healthcheck/dist/cli.cjs", import.meta.url));
const DNS_HOOK = fileURLToPath(new URL("./__fixtures__/dns-log.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "dbh-discovery-"));
const DNS_LOG = join(dir, "dns.log");
const SECRET = `m0dule-${process.pid}-Pw`;

interface Listener {
  port: number;
  accepted(): number;
  close(): Promise<void>;
}
/** Accepts, counts, never answers. */
async function listener(host: string): Promise<Listener> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on("error", () => undefined).on("close", () => sockets.delete(s)).resume();
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return { port: (server.address() as AddressInfo).port, accepted: () => accepted, close: () => new Promise((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))) };
}

let daemon: ChildProcess;
let logs = "";
let base = "";
let forbiddenPort: Listener; // 127.0.0.1, a port no module allows
let forbiddenAddress: Listener; // 127.0.0.2, a port pg allows, an address it does not
let allowed: Listener; // 127.0.0.1, a port pg and named allow

beforeAll(async () => {
  [forbiddenPort, forbiddenAddress, allowed] = await Promise.all([listener("127.0.0.1"), listener("127.0.0.2"), listener("127.0.0.1")]);
  writeFileSync(join(dir, "pg.pw"), `${SECRET}\n`, { mode: 0o600 });
  const config = join(dir, "healthcheck.yaml");
  writeFileSync(
    config,
    [
      "modules:",
      "  pg:",
      "    engine: postgres",
      "    user: postgres",
      "    passwordFile: pg.pw", // trust auth: any password is accepted, and must never show
      "    database: test",
      "    params: { sslmode: disable }",
      `    allow: { cidrs: [127.0.0.1/32], ports: [5432, ${allowed.port}, ${forbiddenAddress.port}] }`,
      "  maria:",
      "    engine: mariadb",
      "    user: root",
      "    database: test",
      "    allow: { cidrs: [127.0.0.1] }",
      "  named:",
      "    engine: postgres",
      "    user: postgres",
      "    database: test",
      "    params: { sslmode: disable }",
      `    allow: { hosts: [localhost], ports: [${allowed.port}] }`,
      "    settings: { connectTimeout: 1s, maxRetries: 0 }",
      "",
    ].join("\n"),
  );
  daemon = spawn(process.execPath, ["--import", DNS_HOOK, CLI, "--config", config, "--export-prom", "127.0.0.1:0", "--no-legacy-metrics"], {
    env: { ...process.env, DNS_LOG },
    stdio: ["ignore", "pipe", "pipe"],
  });
  daemon.stdout!.on("data", (b: Buffer) => (logs += b.toString()));
  daemon.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
  base = (await waitFor("the daemon's address", async () => /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(logs)?.[1], (m) => m !== undefined, 20_000))!;
}, 30_000);

afterAll(async () => {
  daemon?.kill("SIGTERM");
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) await new Promise((r) => daemon.once("exit", r));
  await Promise.all([forbiddenPort?.close(), forbiddenAddress?.close(), allowed?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const probe = async (query: string, timeout?: string): Promise<{ status: number; body: string }> => {
  const res = await fetch(`${base}/probe?${query}`, { headers: timeout ? { "x-prometheus-scrape-timeout-seconds": timeout } : {} });
  return { status: res.status, body: await res.text() };
};
const lookups = (): string[] => (existsSync(DNS_LOG) ? readFileSync(DNS_LOG, "utf8").split("\n").filter(Boolean) : []);

describe("discovered targets against the real CLI", () => {
  it("outside allow: 403 with the reason, no connection at the listeners, no DNS lookup", async () => {
    // the daemon's own start-up (binding its listen address) may have used the resolver
    const before = lookups().length;
    const refused: Array<[string, RegExp]> = [
      [`module=pg&target=127.0.0.1:${forbiddenPort.port}/test`, new RegExp(`port ${forbiddenPort.port} is not in allow.ports`)],
      [`module=pg&target=127.0.0.2:${forbiddenAddress.port}/test`, /address 127\.0\.0\.2 is in none of allow\.cidrs/],
      [`module=pg&target=${encodeURIComponent(`[::ffff:127.0.0.2]:${forbiddenAddress.port}`)}/test`, /address 127\.0\.0\.2 is in none of allow\.cidrs/],
      [`module=pg&target=127.0.0.1:${allowed.port}/postgres`, /database "postgres" is not in allow\.databases/],
      // names: pg lists none; named lists localhost but not this port; neither is ever resolved
      [`module=pg&target=localhost:${allowed.port}/test`, /host name "localhost" is not listed in allow\.hosts/],
      [`module=pg&target=db.attacker.example:${allowed.port}`, /host name "db\.attacker\.example" is not listed/],
      [`module=named&target=localhost:${forbiddenPort.port}`, new RegExp(`port ${forbiddenPort.port} is not in allow.ports`)],
      [`module=named&target=127.0.0.1:${allowed.port}`, /address 127\.0\.0\.1 is in none of allow\.cidrs/],
      [`module=maria&target=127.0.0.1:${allowed.port}`, new RegExp(`port ${allowed.port} is not in allow.ports`)],
    ];
    const answers: string[] = [];
    for (const [query, reason] of refused) {
      const r = await probe(query, "2");
      answers.push(`${r.status} ${r.body.trim()}`);
      expect(r.status, query).toBe(403);
      expect(r.body, query).toMatch(reason);
      expect(r.body).toMatch(/it was not connected to\n$/);
    }
    // not shaped like HOST:PORT[/DB]: 400, never echoed
    for (const query of [`module=pg&target=${encodeURIComponent(`postgres://postgres:${SECRET}@127.0.0.1:${forbiddenPort.port}/test`)}`, "module=pg&target=0.0.0.0:5432", "module=pg&target=127.1:5432", "module=pg&target=2130706433:5432"]) {
      const r = await probe(query);
      answers.push(`${r.status} ${r.body.trim()}`);
      expect(r.status, query).toBe(400);
      expect(r.body).not.toContain(SECRET);
    }
    await new Promise((r) => setTimeout(r, 500));
    const counts = { forbiddenPort: forbiddenPort.accepted(), forbiddenAddress: forbiddenAddress.accepted(), allowed: allowed.accepted(), dnsLookups: lookups().slice(before) };
    console.log(`refused:\n  ${answers.join("\n  ")}\nconnections accepted and DNS lookups after them: ${JSON.stringify(counts)}`);
    expect(counts).toEqual({ forbiddenPort: 0, forbiddenAddress: 0, allowed: 0, dnsLookups: [] });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^db_health_check_discovered_refused_total\{module="pg",reason="port"\} 1$/m);
    expect(metrics).toMatch(/^db_health_check_discovered_refused_total\{module="pg",reason="host"\} 2$/m);
    expect(metrics).toMatch(/^db_health_check_discovered_targets\{module="pg"\} 0$/m);
  });

  it("inside allow: the listener sees the connection and a listed name is resolved (the counters work), within the scrape's time", async () => {
    const t0 = performance.now();
    const r = await probe(`module=pg&target=127.0.0.1:${allowed.port}/test`, "1.5");
    const ms = performance.now() - t0;
    // the listener never answers: down within the scrape's time (1.5 s less the 0.5 s offset)
    expect(r.status).toBe(200);
    expect(r.body).toMatch(new RegExp(`^db_up\\{[^}]*target="127\\.0\\.0\\.1:${allowed.port}/test",module="pg"\\} 0$`, "m"));
    expect(ms).toBeLessThan(1_400);
    await waitFor("the allowed listener to see the connection", async () => allowed.accepted(), (n) => n >= 1, 5_000, 20);
    const before = lookups().length;
    const named = await probe(`module=named&target=LocalHost:${allowed.port}`, "3");
    expect(named.status).toBe(200);
    expect(named.body).toContain(`target="localhost:${allowed.port}",module="named"`);
    expect(lookups().slice(before)).toContain("localhost");
    console.log(`allowed: ${allowed.accepted()} connection(s) at the allowed listener; DNS lookups for the listed name: ${JSON.stringify(lookups().slice(before))}`);
  });

  it("probes the machine's PostgreSQL and MariaDB through their modules: db_up 1, address and module labels, none on /metrics", async () => {
    const pg = await probe("module=pg&target=127.0.0.1:5432/test", "5");
    const maria = await probe("module=maria&target=127.0.0.1:3306", "5");
    const line = (body: string): string | undefined => /^db_up\{.*$/m.exec(body)?.[0];
    console.log(`PostgreSQL: ${line(pg.body)}\nMariaDB: ${line(maria.body)}`);
    expect(line(pg.body)).toBe('db_up{db_name="postgres",db_role="primary",target="127.0.0.1:5432/test",module="pg"} 1');
    expect(line(maria.body)).toBe('db_up{db_name="mysql",db_role="primary",target="127.0.0.1:3306",module="maria"} 1');
    expect(pg.body).toMatch(/^db_status\{[^}]*module="pg",status="up"\} 1$/m);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).not.toMatch(/^db_up\{/m);
    expect(metrics).toMatch(/^db_health_check_discovered_targets\{module="maria"\} 1$/m);
    for (const text of [pg.body, maria.body, metrics, logs]) expect(text).not.toContain(SECRET);
  });
});
