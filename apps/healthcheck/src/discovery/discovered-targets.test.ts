import "@alfred/db-health-driver-mysql";
import "@alfred/db-health-driver-postgres";
import { checkTargetConfigs, createDriver, driverRegistry, planTargets } from "@alfred/db-health-core";
import { tcpProxy, waitFor, type TcpProxy } from "@alfred/db-health-testkit";
import { afterEach, describe, expect, it } from "vitest";
import { createCycles } from "../cycles.js";
import { parseCidr, type Cidr } from "./cidr.js";
import { createDiscoveredTargets, type DiscoveredTarget, type DiscoveredTargets } from "./discovered-targets.js";
import { moduleDsn, type DiscoveryModule } from "./module.js";
import { parseTargetAddress, type TargetAddress } from "./target-address.js";

// The machine's PostgreSQL (127.0.0.1:5432, trust, db test) and MariaDB (127.0.0.1:3306, root),
// each target reached through a proxy of this test's own that counts the connections open
// through it: that is how a driver closed by eviction or idleness shows.
const proxy = (to: number): Promise<TcpProxy> => tcpProxy({ to });

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function setup(modules: DiscoveryModule[], limits: { maxTargets: number; idleMs: number }): { discovered: DiscoveredTargets; dropped: string[] } {
  const shutdown = new AbortController();
  const cycles = createCycles({ signal: shutdown.signal, record: () => undefined });
  const dropped: string[] = [];
  const discovered = createDiscoveredTargets({ modules, createDriver: (o) => createDriver(o), run: (d, b, r) => cycles.run(d, b, r), legacyMetrics: false, ...limits });
  discovered.onDrop((key) => dropped.push(key));
  cleanup.push(() => discovered.close(), () => shutdown.abort());
  return { discovered, dropped };
}

/** A module as resolveCli plans it: resolved once as a target on an address it allows. */
const module = (name: string, engine: string, user: string, ports: number[]): DiscoveryModule => {
  const spec: DiscoveryModule = {
    name,
    engine,
    user,
    database: "test",
    params: engine === "postgres" ? { sslmode: "disable" } : {},
    allow: { cidrs: [parseCidr("127.0.0.1") as Cidr], hosts: [], ports: ports.map((p) => [p, p] as [number, number]), databases: ["test"] },
    settings: { connectTimeout: "2s", maxRetries: 0 },
  };
  const dsn = moduleDsn(spec, parseTargetAddress(`127.0.0.1:${ports[0]}`) as TargetAddress);
  const [target] = planTargets(checkTargetConfigs([{ ...spec.settings, dsn, name }]), [driverRegistry.get(engine)!]);
  return { ...spec, target: target! };
};
const at = (text: string): TargetAddress => parseTargetAddress(text) as TargetAddress;
const hold = (d: DiscoveredTargets, m: string, t: string): DiscoveredTarget => {
  const held = d.open(m, at(t));
  if ("status" in held) throw new Error(`${held.status} ${held.message}`);
  return held;
};
const probeOnce = async (d: DiscoveredTargets, m: string, t: string): Promise<string> => {
  const held = hold(d, m, t);
  try {
    await held.probe();
    return held.render();
  } finally {
    held.release();
  }
};

describe("discovered targets against the machine's PostgreSQL and MariaDB", () => {
  it("probes inside the allow list: db_up 1, the address in the target label, the module in its own", async () => {
    const [pg, maria] = await Promise.all([proxy(5432), proxy(3306)]);
    cleanup.push(() => pg.close(), () => maria.close());
    const { discovered } = setup([module("pg", "postgres", "postgres", [pg.port]), module("maria", "mariadb", "root", [maria.port])], { maxTargets: 10, idleMs: 60_000 });
    expect(await probeOnce(discovered, "pg", `127.0.0.1:${pg.port}/test`)).toContain(`db_up{db_name="postgres",db_role="primary",target="127.0.0.1:${pg.port}/test",module="pg"} 1`);
    expect(await probeOnce(discovered, "maria", `127.0.0.1:${maria.port}`)).toMatch(new RegExp(`^db_up\\{db_name="mysql",db_role="primary",target="127.0.0.1:${maria.port}",module="maria"\\} 1$`, "m"));
    expect([...discovered.counts()]).toEqual([["pg", 1], ["maria", 1]]);
    // persistent connections: one held per target between scrapes
    expect([pg.open(), maria.open()]).toEqual([1, 1]);
  });

  it("holds at most maxTargets: a new target evicts the least recently used (closed, series gone), never one in use", async () => {
    const proxies = await Promise.all([1, 2, 3].map(() => proxy(5432)));
    cleanup.push(...proxies.map((p) => () => p.close()));
    const [a, b, c] = proxies.map((p) => `127.0.0.1:${p.port}/test`) as [string, string, string];
    const { discovered, dropped } = setup([module("pg", "postgres", "postgres", proxies.map((p) => p.port))], { maxTargets: 2, idleMs: 60_000 });
    await probeOnce(discovered, "pg", a);
    await probeOnce(discovered, "pg", b);
    await probeOnce(discovered, "pg", a); // a is now the most recently used: b goes first
    expect(proxies.map((p) => p.open())).toEqual([1, 1, 0]);
    await probeOnce(discovered, "pg", c);
    expect(dropped).toEqual([`pg ${b}`]);
    await waitFor("b's connection to close", async () => proxies.map((p) => p.open()), (o) => o.join() === "1,0,1", 5_000, 20);
    // b comes back as a new target: its series start again (counters from 0)
    const again = await probeOnce(discovered, "pg", b);
    expect(again).toContain(`db_connection_errors_total{db_name="postgres",db_role="primary",target="${b}",module="pg"} 0`);
    expect(again).toMatch(/db_probe_duration_seconds_count\{[^}]*phase="ping"\} 1$/m);
    expect(dropped).toEqual([`pg ${b}`, `pg ${a}`]);

    // both held by requests in flight: a third target is 503, nothing evicted
    const heldB = hold(discovered, "pg", b);
    const heldC = hold(discovered, "pg", c);
    expect(discovered.open("pg", at(a))).toEqual({ status: 503, message: "all 2 discovered targets are in use: retry shortly\n", retryAfter: 5 });
    heldB.release();
    heldC.release();
    expect(discovered.open("pg", at(a))).toHaveProperty("key", `pg ${a}`);
  });

  it("closes a target no request asked for within idleMs, and forgets it", async () => {
    const p = await proxy(5432);
    cleanup.push(() => p.close());
    const target = `127.0.0.1:${p.port}/test`;
    const { discovered, dropped } = setup([module("pg", "postgres", "postgres", [p.port])], { maxTargets: 10, idleMs: 400 });
    await probeOnce(discovered, "pg", target);
    expect(p.open()).toBe(1);
    await waitFor("the idle target to be closed", async () => p.open(), (n) => n === 0, 5_000, 20);
    expect(dropped).toEqual([`pg ${target}`]);
    expect([...discovered.counts()]).toEqual([["pg", 0]]);
  });

  it("refuses a target outside the allow list with 403 and never connects to it", async () => {
    const p = await proxy(5432);
    cleanup.push(() => p.close());
    const { discovered } = setup([module("pg", "postgres", "postgres", [5432])], { maxTargets: 10, idleMs: 60_000 });
    const refused = discovered.open("pg", at(`127.0.0.1:${p.port}/test`));
    expect(refused).toMatchObject({ status: 403, message: `target 127.0.0.1:${p.port}/test is not allowed by module "pg": port ${p.port} is not in allow.ports; it was not connected to\n` });
    expect(discovered.open("pg", at("127.0.0.1:5432/postgres"))).toMatchObject({ status: 403 });
    await new Promise((r) => setTimeout(r, 200));
    expect(p.accepted()).toBe(0);
    expect([...discovered.counts()]).toEqual([["pg", 0]]);
  });
});
