import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDriver } from "@alfred/db-health-core";
import { blackholeServer, openFds, refusedPort, type BlackholeServer } from "@alfred/db-health-testkit";
import { fakeTdsServer, type FakeTdsServer } from "./__fixtures__/fake-tds.js";
import { mssqlDriver } from "./definition.js";

// No SQL Server can run here: these faults use loopback servers that are not SQL Servers.
const dsn = (port: number) => `sqlserver://sa:Not-The-Password1@127.0.0.1:${port}/master`;
const probe = (port: number, connectTimeout = "600ms", query = "") => createDriver({ dsn: `${dsn(port)}${query}`, maxRetries: 0, connectTimeout }, { definition: mssqlDriver });

let hole: BlackholeServer;
let tds: FakeTdsServer;
const servers: Server[] = [];
const listen = async (onConnection: (s: import("node:net").Socket) => void): Promise<number> => {
  const server = createServer((s) => {
    s.on("error", () => undefined);
    // Drain, so this side sees the client close and frees its socket: the fd count below is
    // about the driver's sockets, not the test servers'.
    s.resume();
    onConnection(s);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
};
let http = 0;
let ssh = 0;
let badTds = 0;
let fakeTds = 0;
beforeAll(async () => {
  hole = await blackholeServer();
  http = await listen((s) => s.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
  ssh = await listen((s) => s.write("SSH-2.0-OpenSSH_9.2p1\r\n"));
  // Looks like TDS (type 0x04, EOM) but its option table points past the packet: tedious 18
  // would throw on nextTick and crash the process while parsing this.
  badTds = await listen((s) => s.end(Buffer.from([0x04, 0x01, 0x00, 0x0e, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x40, 0x00, 0x06, 0xff])));
  // A well-formed PRELOGIN reply (VERSION, ENCRYPTION=NOT_SUP), then silence: enough to get
  // past the precheck to tedious, which then waits for the login and hits the deadline.
  tds = await fakeTdsServer("silent");
  fakeTds = tds.port;
});
afterAll(async () => {
  await hole.close();
  await tds.close();
  for (const s of servers) s.close();
});

describe("mssql driver against loopback servers that are not SQL Servers", () => {
  it("is down at once on a refused port", async () => {
    const d = probe(await refusedPort());
    const r = await d.probe();
    expect(r.status).toBe("down");
    expect(r.reason).toMatch(/^connect failed: connect ECONNREFUSED 127\.0\.0\.1:\d+/);
    await d.close();
  });

  it("is down within the connect deadline on a listener that never answers", async () => {
    const d = probe(hole.port, "500ms");
    const t0 = performance.now();
    const r = await d.probe();
    expect(r.status).toBe("down");
    expect(r.reason).toBe("connect timed out after 500ms");
    expect(performance.now() - t0).toBeLessThan(900);
    await d.close();
  });

  it("is down with a clear error, at once, when the port answers something else", async () => {
    for (const [port, why] of [
      [http, /does not speak TDS \(not a SQL Server\?\): reply starts with 0x48 \("HTTP\/1\.1 400 Bad"\), not a TDS response$/],
      [ssh, /does not speak TDS \(not a SQL Server\?\): reply starts with 0x53 \("SSH-2\.0-OpenSSH_"\), not a TDS response$/],
      [badTds, /does not speak TDS \(not a SQL Server\?\): option 0x0 points past the packet$/],
    ] as const) {
      const d = probe(port);
      const t0 = performance.now();
      const r = await d.probe();
      expect(r.status).toBe("down");
      expect(r.reason).toMatch(why);
      expect(performance.now() - t0).toBeLessThan(300);
      await d.close();
    }
  });

  it("leaks no socket or descriptor over 200 such cycles", async () => {
    const ports = [await refusedPort(), hole.port, http, ssh, badTds, fakeTds];
    const fds = openFds();
    for (let i = 0; i < 200; i++) {
      const d = probe(ports[i % ports.length]!, "100ms");
      expect((await d.probe()).status).toBe("down");
      await d.close();
    }
    await new Promise((res) => setTimeout(res, 300));
    expect(hole.openSockets()).toBe(0);
    expect(tds.openSockets()).toBe(0);
    expect(Math.abs(openFds() - fds)).toBeLessThanOrEqual(2);
  }, 60_000);

  it("hands a server that speaks TDS to tedious, and still ends on the deadline", async () => {
    // The first connect loads mssql: about half a second of synchronous module evaluation (more
    // on a busy machine) that no timer can interrupt. Loaded first, so what is timed is the deadline.
    await import("mssql");
    // encrypt=false: the fake server offers no TLS, which encrypt=true refuses before tedious
    const d = probe(fakeTds, "500ms", "?encrypt=false");
    const t0 = performance.now();
    const r = await d.probe();
    expect(r.status).toBe("down");
    expect(r.reason).toMatch(/connect timed out after 500ms|Connection lost|Failed to connect/);
    expect(performance.now() - t0).toBeLessThan(900);
    await d.close();
  });

  it("never sends the login without TLS when encryption is on and the server offers none", async () => {
    // tedious 18 would: with encrypt=true it sends LOGIN7 in the clear (the password only
    // obfuscated) to a server whose PRELOGIN says ENCRYPT_NOT_SUP. The pre-check refuses first.
    const failing = await fakeTdsServer(() => ({ number: 18456, message: "Login failed for user 'sa'." }));
    try {
      const reasons: string[] = [];
      for (const query of ["", "?encrypt=true", "?encrypt=strict", "?encrypt=false"]) {
        const d = createDriver({ dsn: `${dsn(failing.port)}${query}`, maxRetries: 0, connectTimeout: "300ms" }, { definition: mssqlDriver });
        const r = await d.probe();
        expect(r.status).toBe("down");
        reasons.push(r.reason ?? "");
        await d.close();
      }
      const refused = `127.0.0.1:${failing.port} offers no encryption and encrypt=true: the login is not sent in the clear (encrypt=false allows it)`;
      expect(reasons.slice(0, 2)).toEqual([`connect failed: ${refused}`, `connect failed: ${refused}`]);
      // encrypt=strict (TDS 8) starts with TLS and sends nothing readable; only the explicit
      // encrypt=false sent its login, and the server's refusal is the reason.
      expect(failing.logins.map((l) => l.password)).toEqual(["Not-The-Password1"]);
      expect(reasons[3]).toMatch(/Login failed for user 'sa'/);
    } finally {
      await failing.close();
    }
  });

  it("lets an ordinary server (encryption available, not forced) through to tedious's TLS", async () => {
    // What the default SQL Server answers a client that asks for encryption: ON. The pre-check
    // must not refuse it; tedious then starts TLS, which this fake does not speak, so the login
    // never leaves in the clear and the probe is down for the TLS failure, not for the pre-check.
    const ordinary = await fakeTdsServer(() => ({ number: 18456, message: "Login failed for user 'sa'." }), "off");
    try {
      const d = createDriver({ dsn: dsn(ordinary.port), maxRetries: 0, connectTimeout: "1s" }, { definition: mssqlDriver });
      const r = await d.probe();
      await d.close();
      expect(r.status).toBe("down");
      expect(r.reason).not.toMatch(/encrypt=true|does not speak TDS/);
      expect(ordinary.logins).toEqual([]);
    } finally {
      await ordinary.close();
    }
  });

  it("loads mssql only when a SQL Server target connects", async () => {
    const index = new URL("../dist/index.js", import.meta.url).href;
    const script = `
      import { createRequire } from "node:module";
      const require = createRequire(import.meta.url);
      const loaded = () => Object.keys(require.cache).some((k) => /[\\\\/]mssql[\\\\/]/.test(k));
      await import(${JSON.stringify(index)});
      const afterImport = loaded();
      const { createDriver } = await import("@alfred/db-health-core");
      const d = createDriver({ dsn: "sqlserver://sa@127.0.0.1:${fakeTds}/master?encrypt=false", maxRetries: 0, connectTimeout: 1500 });
      await d.probe(); await d.close();
      console.log(JSON.stringify({ afterImport, afterConnect: loaded() }));`;
    // async: the fake server lives in this process and must keep answering meanwhile
    const out = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { cwd: fileURLToPath(new URL("..", import.meta.url)), encoding: "utf8", timeout: 20_000 });
    expect(out.stderr).toBe("");
    expect(JSON.parse(out.stdout)).toEqual({ afterImport: false, afterConnect: true });
  });
});
