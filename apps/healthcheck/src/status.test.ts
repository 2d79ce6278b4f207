import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { askStatus } from "./status.js";

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.closeAllConnections(), s.close();
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function capture(): { io: Parameters<typeof askStatus>[1]; out: () => string } {
  let text = "";
  const sink = { write: (chunk: string) => (text += chunk) };
  return { io: { stdout: sink, stderr: sink }, out: () => text };
}

describe("healthcheck status", () => {
  it("says a URL whose credentials do not decode is not one (exit 3), without showing the password", async () => {
    const { io, out } = capture();
    expect(await askStatus("http://prometheus:Zk7Q%zz@127.0.0.1:1/readyz", io)).toBe(3);
    expect(out()).toBe('healthcheck status: "http://prometheus:***@127.0.0.1:1/readyz" has credentials with an invalid percent-escape: write "%" as %25\n');
  });

  it("reads at most 64 KiB of an answer, however much the server sends", async () => {
    const base = await serve((_, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      const chunk = Buffer.alloc(1024 * 1024, "x");
      const pump = (): void => {
        while (res.write(chunk)) if (res.destroyed) return;
        res.once("drain", pump);
      };
      pump();
    });
    const { io, out } = capture();
    expect(await askStatus(`${base}/readyz`, io)).toBe(0);
    expect(out()).toMatch(/^200 x+… \(answer cut at 64 KiB\)\n$/);
    expect(out().length).toBeLessThan(66 * 1024);
  });

  it("passes URL credentials as basic auth and prints the answer", async () => {
    let authorization: string | undefined;
    const base = await serve((req, res) => {
      authorization = req.headers.authorization;
      res.writeHead(503).end("not ready:\nx: down\n");
    });
    const { io, out } = capture();
    expect(await askStatus(`${base.replace("//", "//prom:p%40ss@")}/readyz`, io)).toBe(1);
    expect(authorization).toBe(`Basic ${Buffer.from("prom:p@ss").toString("base64")}`);
    expect(out()).toBe("503 not ready:\nx: down\n");
  });

  it("hides the credentials in an answer that echoes the request: the password, its basic-auth header, direction controls", async () => {
    const base = await serve((req, res) => {
      const head = Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`).join("\r\n");
      res.writeHead(200).end(`${req.method} ${req.url}\r\n${head}\r\npassword again: Zk7Qx-pw, b64 ${Buffer.from("prom:Zk7Qx-pw").toString("base64")} \u202eevil`);
    });
    const { io, out } = capture();
    expect(await askStatus(`${base.replace("//", "//prom:Zk7Qx-pw@")}/readyz`, io)).toBe(0);
    expect(out()).toContain("authorization: ***");
    expect(out()).not.toContain("Zk7Qx-pw");
    expect(out()).not.toContain(Buffer.from("prom:Zk7Qx-pw").toString("base64").replace(/=+$/, ""));
    expect(out()).toContain("\\u{202e}evil");
    expect(out()).not.toContain("\u202e");
  });

  it("does not blame the daemon when its answer cannot be printed", async () => {
    const base = await serve((_, res) => res.writeHead(200).end("ready\n"));
    let err = "";
    const io = {
      stdout: { write: (): never => { throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }); } },
      stderr: { write: (chunk: string) => (err += chunk) },
    };
    await expect(askStatus(`${base}/readyz`, io)).rejects.toThrow("ENOSPC");
    expect(err).not.toContain("no answer");
  });

  it("does not follow a redirect to a URL with credentials (they would go out as basic auth), nor print them", async () => {
    let authorization: string | undefined = "none";
    const target = await serve((req, res) => {
      authorization = req.headers.authorization;
      res.writeHead(200).end("ready\n");
    });
    const base = await serve((_, res) => res.writeHead(302, { location: `${target.replace("//", "//thief:St0len-Pw@")}/readyz` }).end());
    const { io, out } = capture();
    expect(await askStatus(`${base}/readyz`, io)).toBe(1);
    expect(authorization, "the redirect's target was never asked").toBe("none");
    expect(out()).toMatch(/no answer from .*: redirected to a URL with credentials, which is not followed\n$/);
    expect(out()).not.toContain("St0len-Pw");
  });
});
