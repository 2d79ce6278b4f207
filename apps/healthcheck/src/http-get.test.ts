import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { selfSigned } from "./http/__fixtures__/http-fixtures.js";
import { answerReader, httpGet, MAX_HEAD_BYTES, type HttpAnswer } from "./http-get.js";
import { askStatus } from "./status.js";

// A server that answers whatever bytes the case gives, as a hostile or broken one would.
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});
async function rawServer(answer: (socket: Socket, request: string) => void): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    let request = "";
    socket.on("data", (d) => {
      request += d.toString("latin1");
      if (request.includes("\r\n\r\n")) answer(socket, request);
    });
  });
  server.on("close", () => sockets.forEach((s) => s.destroy()));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const ask = (base: string, max = 1024, ms = 2000): Promise<HttpAnswer> => httpGet(new URL(`${base}/readyz`), {}, max, AbortSignal.timeout(ms));
const text = (a: HttpAnswer): string => a.body.toString("utf8");

describe("httpGet, the client of `healthcheck status`", () => {
  it("sends one GET with Host, the given headers and Connection: close", async () => {
    let seen = "";
    const base = await rawServer((s, req) => ((seen = req), s.end("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nready")));
    const answer = await httpGet(new URL(`${base}/readyz?x=1`), { authorization: "Basic eDp5" }, 1024, AbortSignal.timeout(2000));
    expect(answer).toMatchObject({ status: 200, cut: false });
    expect(text(answer)).toBe("ready");
    expect(seen).toBe(`GET /readyz?x=1 HTTP/1.1\r\nHost: ${new URL(base).host}\r\nauthorization: Basic eDp5\r\nConnection: close\r\n\r\n`);
  });

  it("reads a chunked body, a body up to the close, and an empty one", async () => {
    const chunked = await rawServer((s) => s.end("HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nnot \r\n6\r\nready\n\r\n0\r\nX-Trailer: t\r\n\r\n"));
    expect(text(await ask(chunked))).toBe("not ready\n");
    const untilClose = await rawServer((s) => s.end("HTTP/1.0 200 OK\r\n\r\nall of it"));
    expect(text(await ask(untilClose))).toBe("all of it");
    const empty = await rawServer((s) => s.end("HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n"));
    expect(await ask(empty)).toMatchObject({ status: 204, cut: false });
  });

  it("skips interim answers and takes LF-only line ends, mixed ones too", async () => {
    const base = await rawServer((s) => s.end("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\nLink: </a>\n\nHTTP/1.1 200 OK\nContent-Length: 2\n\nok"));
    const answer = await ask(base);
    expect(answer.status).toBe(200);
    expect(text(answer)).toBe("ok");
    const mixed = await rawServer((s) => s.write("HTTP/1.1 200 OK\nContent-Length: 5\n\r\nready"));
    expect(text(await ask(mixed))).toBe("ready");
  });

  it("reads at most `max` bytes of a body, chunked or not, and says it was cut", async () => {
    const big = await rawServer((s) => s.end(`HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n${"x".repeat(100_000)}`));
    const a = await ask(big, 1000);
    expect(a.cut).toBe(true);
    expect(a.body.length).toBe(1000);
    const hugeChunk = await rawServer((s) => s.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffff\r\n${"y".repeat(5000)}`));
    const b = await ask(hugeChunk, 1000);
    expect(b.cut).toBe(true);
    expect(text(b)).toBe("y".repeat(1000));
  });

  it("refuses what is not an HTTP/1.x answer, at once and without waiting for the deadline", async () => {
    const cases: Array<[string, string | ((s: Socket) => void), RegExp]> = [
      ["not HTTP", "SSH-2.0-OpenSSH_9.2\r\n\r\n", /not HTTP\/1\.x/],
      ["HTTP/2 preface", "HTTP/2 200\r\n\r\n", /not HTTP\/1\.x/],
      ["a status of two digits", "HTTP/1.1 20 OK\r\n\r\n", /not HTTP\/1\.x/],
      ["a header line without a colon", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", /malformed header/],
      ["a header name with a space", "HTTP/1.1 200 OK\r\nX Bad: 1\r\n\r\n", /malformed header/],
      ["two different lengths", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", /invalid Content-Length/],
      ["a negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", /invalid Content-Length/],
      ["a bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n", /malformed chunk/],
      ["a chunk without its line end", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY", /malformed chunk/],
      ["a body cut short", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", /closed before the answer's body ended/],
      ["headers cut short", "HTTP/1.1 200 OK\r\nContent-Le", /closed inside the answer's headers/],
      ["no answer at all", "", /socket hang up/],
      ["headers past 16 KiB", `HTTP/1.1 200 OK\r\n${"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(500)}\r\n`, /headers are larger than 16 KiB/],
      ["headers that never end", (s) => s.write(`HTTP/1.1 200 OK\r\n${"X-Pad: b\r\n".repeat(3000)}`), /headers are larger than 16 KiB/],
      ["a chunk-size line that never ends", (s) => s.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${"0".repeat(5000)}`), /malformed chunk/],
      // Each of these then waits, as a server that is not an HTTP server, or a broken one, would.
      ["another protocol's banner, then silence", (s) => s.write("SSH-2.0-OpenSSH_9.2\r\n"), /not HTTP\/1\.x/],
      ["a MySQL greeting (no line end), then silence", (s) => s.write(Buffer.from("4a0000000a31302e31312e3600", "hex")), /not HTTP\/1\.x/],
      ["a bad header line, then silence", (s) => s.write("HTTP/1.1 200 OK\r\nbad header line\r\n"), /malformed header/],
      ["a bad chunk size, then silence", (s) => s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz"), /malformed chunk/],
      ["a header name with non-token characters", "HTTP/1.1 200 OK\r\nX(A): a\r\nContent-Length: 2\r\n\r\nok", /malformed header/],
      ["NUL and DEL in a value", "HTTP/1.1 200 OK\r\nX-A: a\x00b\x7f\r\nContent-Length: 2\r\n\r\nok", /malformed header/],
      ["a lone CR in a value", "HTTP/1.1 302 Found\r\nLocation: /ok\rX-Injected: 1\r\nContent-Length: 0\r\n\r\n", /malformed header/],
      ["a length with a no-break space", (s) => s.end(Buffer.concat([Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 2"), Buffer.from([0xa0]), Buffer.from("\r\n\r\nok")])), /invalid Content-Length/],
      ["Transfer-Encoding and Content-Length both", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n", /both Transfer-Encoding and Content-Length/],
      ["an obs-fold continuation line", "HTTP/1.1 200 OK\r\nX-A: a\r\n  folded\r\nContent-Length: 2\r\n\r\nok", /malformed header/],
    ];
    for (const [what, bytes, expected] of cases) {
      const base = await rawServer((s) => (typeof bytes === "string" ? s.end(bytes) : bytes(s)));
      const started = Date.now();
      await expect(ask(base, 1024, 10_000), what).rejects.toThrow(expected);
      expect(Date.now() - started, `${what}: refused without waiting for the deadline`).toBeLessThan(5000);
    }
  });

  it("prints no password the server quotes back, and no raw control characters", async () => {
    const base = await rawServer((s, req) => {
      const auth = /authorization: Basic (\S+)/i.exec(req)?.[1] ?? "";
      s.end(`HTTP/1.1 503 No\r\nConnection: close\r\n\r\nyou sent cred=${Buffer.from(auth, "base64").toString()}\n\x1b]0;pwned\x07\x1b[2Jstill here`);
    });
    let out = "";
    const sink = { write: (c: string) => (out += c) };
    expect(await askStatus(`${base.replace("//", "//prom:S3cr%40tPw@")}/readyz`, { stdout: sink, stderr: sink })).toBe(1);
    expect(out).not.toContain("S3cr@tPw");
    expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(out).toBe("503 you sent cred=prom:***\n\\x1b]0;pwned\\x07\\x1b[2Jstill here\n");
  });

  it("ends a server that drips its answer at the deadline, with fetch()'s words for it", async () => {
    const base = await rawServer((s) => {
      s.write("HTTP/1.1 200 OK\r\n");
      const drip = setInterval(() => (s.destroyed ? clearInterval(drip) : s.write("X: y\r\n")), 20);
    });
    await expect(ask(base, 1024, 300)).rejects.toThrow("The operation was aborted due to timeout");
  });

  it("feeds byte by byte as well as all at once (the reader keeps state across packets)", () => {
    const answer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nLocation: /x\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    const reader = answerReader(100);
    let got: HttpAnswer | undefined;
    for (const byte of Buffer.from(answer)) got ??= reader.push(Buffer.from([byte]));
    expect(got).toMatchObject({ status: 200, location: "/x", cut: false });
    expect(got!.body.toString()).toBe("abcde");
    expect(MAX_HEAD_BYTES).toBe(16 * 1024);
  });

  describe("https", () => {
    const dir = mkdtempSync(join(tmpdir(), "dbh-http-get-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("checks the server's certificate as node:https does (a self-signed one is refused)", async () => {
      const { certFile, keyFile } = selfSigned(dir, "https");
      const server = createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (_, res) => res.end("ready"));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`;
        await expect(httpGet(new URL(url), {}, 1024, AbortSignal.timeout(2000))).rejects.toThrow(/self[- ]signed certificate/);
        let out = "";
        const sink = { write: (c: string) => (out += c) };
        expect(await askStatus(url, { stdout: sink, stderr: sink })).toBe(1);
        expect(out).toMatch(/^healthcheck status: no answer from https:\/\/127\.0\.0\.1:\d+\/readyz: self[- ]signed certificate/);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    });
  });
});
