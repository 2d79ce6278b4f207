import { describe, expect, it, vi } from "vitest";
import { createDriver } from "../probe/driver.js";
import { TOKEN_HISTORY_LENGTH } from "./health-token.js";
import { resolveTargetConfig, type TargetOptions } from "../config/config.js";
import { parseDsn } from "../dsn/dsn.js";
import { createRedactor } from "../redact/redact.js";
import { defineDriver } from "./define-driver.js";
import { PRUNE_EVERY_MS, healthTableAdapter } from "./protocol.js";
import { serverLimits } from "./limits.js";
import type { DriverAdapter } from "../contract/driver-adapter.js";
import type { DriverDefinition } from "../contract/driver-definition.js";
import type { DialectTarget, HealthTableDialect } from "./dialect.js";
import type { RoleInfo } from "../contract/types.js";

/** A database in a Map, and a dialect over it that records every statement. */
function fakeEngine(options: { table?: boolean; replica?: boolean; createFails?: Error; role?: RoleInfo; slowConnect?: number } = {}) {
  const rows = new Map<string, string>();
  const state = { table: options.table ?? false, calls: [] as string[], createWaits: [] as boolean[], destroyed: 0, prunes: [] as Array<[string, number]>, lost: undefined as ((err: unknown) => void) | undefined };
  const missing = (): Error => Object.assign(new Error('relation "_health_check" does not exist'), { code: "42P01" });
  const dialect = (target: DialectTarget): HealthTableDialect => {
    state.lost = target.lost;
    return {
      driver: "fake",
      table: '"_health_check"',
      secrets: ["env-Secret-1"],
      async connect({ signal }) {
        state.calls.push("connect");
        if (options.slowConnect) await new Promise((resolve) => setTimeout(resolve, options.slowConnect));
        void signal;
      },
      ping: async () => void state.calls.push("ping"),
      role: async (_c, { tableExists }) => (state.calls.push(`role(table=${tableExists})`), options.role ?? { role: options.replica ? "replica" : "primary", readOnly: !!options.replica }),
      inspect: async () => (state.calls.push("inspect"), { exists: state.table }),
      isReplica: async () => (state.calls.push("isReplica"), options.replica ?? false),
      async createTable(call) {
        state.calls.push("create");
        state.createWaits.push(call.waitForLocks !== false);
        if (options.createFails) throw options.createFails;
        state.table = true;
      },
      async upsert(probeId, token) {
        state.calls.push("upsert");
        if (!state.table) throw missing();
        const old = rows.get(probeId);
        rows.set(probeId, (old ? `${token} ${old}` : token).slice(0, TOKEN_HISTORY_LENGTH));
      },
      async select(probeId) {
        state.calls.push("select");
        if (!state.table) throw missing();
        return rows.get(probeId);
      },
      prune: async (probeId, seconds) => void state.prunes.push([probeId, seconds]),
      catalogRead: async () => void state.calls.push("catalog"),
      classifyError: (err) => {
        const code = (err as { code?: string }).code;
        return { ...(code === "42501" ? { kind: "permission" as const } : {}), message: `${(err as Error).message}${code ? ` (SQLSTATE ${code})` : ""}`, tableMissing: code === "42P01" };
      },
      close: async () => void state.calls.push("close"),
      destroy: () => void state.destroyed++,
    };
  };
  return { rows, state, dialect };
}

const config = (over: Partial<TargetOptions> = {}) => resolveTargetConfig({ dsn: "fake://db/x", probeId: "me", ...over } as TargetOptions);
const adapterFor = (engine: ReturnType<typeof fakeEngine>, over: Partial<TargetOptions> = {}, connectionLost?: (reason: string) => void): DriverAdapter =>
  healthTableAdapter({ config: config(over), dsn: parseDsn("fake://db/x"), redact: createRedactor([]), ...(connectionLost ? { connectionLost } : {}) }, engine.dialect);
const signal = (): AbortSignal => AbortSignal.timeout(5000);
const driverOf = (engine: ReturnType<typeof fakeEngine>): DriverDefinition => defineDriver({ name: "fake", schemes: ["fake"], createDialect: engine.dialect });

describe("the health-table protocol (core, for every dialect)", () => {
  it("creates a missing table at connect, and a full probe through defineDriver is up", async () => {
    const engine = fakeEngine();
    const r = await createDriver({ dsn: "fake://db/x", probeId: "me" }, { definition: driverOf(engine) }).probe();
    expect(r.status, r.reason).toBe("up");
    expect(engine.state.calls.slice(0, 3)).toEqual(["connect", "inspect", "isReplica"]);
    expect(engine.state.calls).toContain("create");
    expect(engine.rows.get("me")).toMatch(/^[\w-]{8}$/);
  });

  it("never creates the table on a node that reports replica status, and says so when a write needs it", async () => {
    const engine = fakeEngine({ replica: true });
    const a = adapterFor(engine);
    await a.connect(signal());
    expect(engine.state.calls).not.toContain("create");
    await expect(a.write("tok12345", signal())).rejects.toThrow(
      'health table "_health_check" is missing and cannot be created: the node reports replica status, where the table is never created: create it on the primary',
    );
  });

  it("remembers why CREATE failed and gives that as the write's reason; creates nothing when not allowed", async () => {
    const denied = fakeEngine({ createFails: Object.assign(new Error("permission denied for schema public"), { code: "42501" }) });
    const a = adapterFor(denied);
    await a.connect(signal());
    const err = (await a.write("tok12345", signal()).catch((e: unknown) => e)) as Error & { kind?: string };
    expect(err.message).toBe('health table "_health_check" is missing and cannot be created: permission denied for schema public (SQLSTATE 42501)');
    expect(err.kind).toBe("permission");
    const notAsked = fakeEngine();
    const b = adapterFor(notAsked, { createHealthTable: false });
    await b.connect(signal());
    await expect(b.write("tok12345", signal())).rejects.toThrow(/^relation "_health_check" does not exist \(SQLSTATE 42P01\)$/);
    expect(notAsked.state.calls).not.toContain("create");
  });

  it("creates a table dropped since connect again and writes once more", async () => {
    const engine = fakeEngine({ table: true });
    const a = adapterFor(engine);
    await a.connect(signal());
    engine.state.table = false;
    await a.write("tok12345", signal());
    expect(engine.state.calls.slice(-3)).toEqual(["upsert", "create", "upsert"]);
    expect(await a.read(signal())).toBe("tok12345");
  });

  it("asks the CREATE at connect not to wait for locks (the write creates the table within its own deadline), the write's CREATE to wait", async () => {
    const engine = fakeEngine();
    const a = adapterFor(engine);
    await a.connect(signal());
    engine.state.table = false;
    await a.write("tok12345", signal());
    expect(engine.state.createWaits).toEqual([false, true]);
  });

  it("prunes other probers' rows older than pruneAfter at the first write, then at most once a minute", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const engine = fakeEngine({ table: true });
      const a = adapterFor(engine, { pruneAfter: "2h" });
      await a.connect(signal());
      await a.write("aaaaaaaa", signal());
      await a.write("bbbbbbbb", signal());
      expect(engine.state.prunes).toEqual([["me", 7200]]);
      vi.setSystemTime(Date.now() + PRUNE_EVERY_MS);
      await a.write("cccccccc", signal());
      expect(engine.state.prunes).toEqual([["me", 7200], ["me", 7200]]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("reads the catalog instead on a replica without the table", async () => {
    const engine = fakeEngine({ replica: true });
    const a = adapterFor(engine);
    await a.connect(signal());
    await a.role(signal());
    await expect(a.read(signal())).resolves.toBeUndefined();
    expect(engine.state.calls.slice(-2)).toEqual(["select", "catalog"]);
    // A primary without the table fails the read with the reason.
    const primary = fakeEngine();
    const b = adapterFor(primary, { createHealthTable: false });
    await b.connect(signal());
    await b.role(signal());
    await expect(b.read(signal())).rejects.toThrow(/does not exist/);
  });

  it("tells role() whether the table exists", async () => {
    const engine = fakeEngine({ table: true });
    const a = adapterFor(engine);
    await a.connect(signal());
    await a.role(signal());
    expect(engine.state.calls).toContain("role(table=true)");
  });

  it("closes a connection that completed after its deadline", async () => {
    const engine = fakeEngine({ slowConnect: 100 });
    const a = adapterFor(engine);
    const err = (await a.connect(AbortSignal.timeout(20)).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe("connect completed after its deadline");
    expect(engine.state.destroyed).toBe(1);
    expect(engine.state.calls).not.toContain("inspect");
  });

  it("maps errors with the dialect's one hook and redacts the dialect's secrets, lost connections included", async () => {
    const engine = fakeEngine({ table: true });
    const lost: string[] = [];
    const a = adapterFor(engine, {}, (reason) => lost.push(reason));
    await a.connect(signal());
    engine.state.lost!(Object.assign(new Error("terminating connection, password env-Secret-1"), { code: "57P01" }));
    expect(lost).toEqual(["terminating connection, password *** (SQLSTATE 57P01)"]);
  });
});

describe("a dialect whose error hook misbehaves", () => {
  // A third-party dialect's classifyError that throws or answers garbage must not replace the
  // client's error, nor turn a lost connection into an uncaught exception (the daemon would exit).
  const broken: Array<[string, HealthTableDialect["classifyError"]]> = [
    ["throws", () => {
      throw new TypeError("classify blew up");
    }],
    ["returns undefined", () => undefined as never],
    ["returns garbage", () => ({ kind: "bogus", message: 42, tableMissing: "yes" }) as never],
  ];
  for (const [what, classifyError] of broken) {
    it(`keeps the client's error, redacted, when classifyError ${what}`, async () => {
      const engine = fakeEngine({ table: true });
      const lost: string[] = [];
      const a = healthTableAdapter(
        { config: config(), dsn: parseDsn("fake://db/x"), redact: createRedactor([]), connectionLost: (reason) => lost.push(reason) },
        (t) => ({ ...engine.dialect(t), ping: async () => Promise.reject(new Error("server gone, password env-Secret-1")), classifyError }),
      );
      await a.connect(signal());
      const err = (await a.ping(signal()).catch((e: unknown) => e)) as Error & { kind?: string };
      expect(err.message).toBe("server gone, password ***");
      expect(err.kind).toBe("query");
      expect(() => engine.state.lost!(new Error("socket closed, password env-Secret-1"))).not.toThrow();
      expect(lost).toEqual(["socket closed, password ***"]);
    });
  }
});

describe("serverLimits", () => {
  it("is 0.9 × the longer deadline for statements and 0.8 × the write deadline for locks", () => {
    expect(serverLimits({ readTimeout: 2000, writeTimeout: 2000 })).toEqual({ statementMs: 1800, lockMs: 1600 });
    expect(serverLimits({ readTimeout: 30_000, writeTimeout: 5000 })).toEqual({ statementMs: 27_000, lockMs: 4000 });
  });
});

describe("the deprecated 1.0 adapter contract", () => {
  it("still runs an adapter written by hand, unchanged, through createDriver", async () => {
    let stored: string | undefined;
    const legacy: DriverDefinition = {
      name: "legacy",
      packageName: "db-health-driver-legacy",
      schemes: ["legacy"],
      createAdapter: () => ({
        connect: async () => undefined,
        ping: async () => undefined,
        role: async () => ({ role: "primary", readOnly: false }),
        write: async (token) => void (stored = stored ? `${token} ${stored}`.slice(0, TOKEN_HISTORY_LENGTH) : token),
        read: async () => stored,
        close: async () => undefined,
      }),
    };
    const d = createDriver({ dsn: "legacy://db/x" }, { definition: legacy });
    const r = await d.probe();
    expect(r.status, r.reason).toBe("up");
    expect(r.phases.write?.ok && r.phases.read?.ok).toBe(true);
    await d.checkReadWrite();
    await d.close();
  });
});
