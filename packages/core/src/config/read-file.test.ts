import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkFileSync, FILE_LIMITS, formatBytes, readFileLimited, readFileSyncLimited, UnreadableFile, type FileLimit } from "./read-file.js";

const dir = mkdtempSync(join(tmpdir(), "dbh-read-file-"));
const fifo = join(dir, "fifo");
const socket = join(dir, "socket");
const config: FileLimit = { bytes: 8 * 1024 * 1024, label: "a configuration file" };
let server: Server;
beforeAll(async () => {
  execFileSync("mkfifo", [fifo]);
  server = createServer();
  await new Promise<void>((resolve) => server.listen(socket, resolve));
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});
const write = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** What each reader says about `path`: the content or the refusal. */
async function both(path: string, limit: FileLimit): Promise<[string, string]> {
  const said = async (f: () => Buffer | Promise<Buffer>): Promise<string> => {
    try {
      return (await f()).toString("utf8");
    } catch (err) {
      expect(err).toBeInstanceOf(UnreadableFile);
      expect(err).toMatchObject({ name: "DbHealthError", kind: "config" });
      return (err as Error).message;
    }
  };
  return [await said(() => readFileSyncLimited(path, limit)), await said(() => readFileLimited(path, limit))];
}

describe("reading a small file whatever its path points at", () => {
  it("reads a regular file, and a /proc file that reports a size of 0", async () => {
    expect(await both(write("pw", "s3cret\n"), FILE_LIMITS.secret)).toEqual(["s3cret\n", "s3cret\n"]);
    const [sync, async] = await both("/proc/self/status", FILE_LIMITS.secret);
    expect(sync).toMatch(/^Name:/);
    expect(async).toMatch(/^Name:/);
  });

  it("refuses a FIFO without waiting for a writer, a device, a directory and a socket", async () => {
    for (const [path, what] of [
      [fifo, "a FIFO"],
      ["/dev/zero", "a character device"],
      [dir, "a directory"],
      [socket, "a socket"],
    ]) {
      const refusal = `cannot read ${JSON.stringify(path)}: it is ${what}, not a regular file`;
      expect(await both(path!, FILE_LIMITS.secret)).toEqual([refusal, refusal]);
    }
  });

  it("refuses a file over its limit by its size, and names a missing one", async () => {
    const big = write("big.yaml", "");
    truncateSync(big, 8 * 1024 * 1024 + 1);
    const over = `cannot read "${big}": it is 8 MiB, over the 8 MiB limit for a configuration file`;
    expect(await both(big, config)).toEqual([over, over]);
    truncateSync(big, 8 * 1024 * 1024);
    expect((await readFileLimited(big, config)).length).toBe(8 * 1024 * 1024);
    const pem = write("big.pem", "");
    truncateSync(pem, 3 * 1024 * 1024 + 7);
    expect(() => readFileSyncLimited(pem, FILE_LIMITS.pem)).toThrow(`cannot read "${pem}": it is 3 MiB, over the 1 MiB limit for a PEM file`);
    const missing = `cannot read "${dir}/nope": ENOENT`;
    expect(await both(`${dir}/nope`, FILE_LIMITS.pem)).toEqual([missing, missing]);
  });

  it("checks a path by stat alone", () => {
    expect(() => checkFileSync(fifo, config)).toThrow(`cannot read "${fifo}": it is a FIFO, not a regular file`);
    expect(() => checkFileSync(`${dir}/nope`)).toThrow(expect.objectContaining({ detail: "ENOENT" }));
    expect(() => checkFileSync(write("ok", "x"), config)).not.toThrow();
  });

  it("leaves module loading intact after refusing a FIFO (Node's realpathSync reads the last plain stat)", () => {
    // A plain statSync of a FIFO, then an import through pnpm's symlinks: "Cannot find module".
    const readFile = new URL("../../dist/config/read-file.js", import.meta.url).href;
    const script = `
      const { readFileSyncLimited } = await import(${JSON.stringify(readFile)});
      try { readFileSyncLimited(${JSON.stringify(fifo)}, { bytes: 10, label: "x" }); } catch {}
      await import("prom-client");
      console.log("loaded");`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: fileURLToPath(new URL("../..", import.meta.url)), encoding: "utf8", timeout: 20_000 });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("loaded\n");
  });

  it("shows sizes as a person would", () => {
    expect([formatBytes(300), formatBytes(64 * 1024), formatBytes(9.1 * 1024 * 1024), formatBytes(70 * 1024 + 8)]).toEqual(["300 bytes", "64 KiB", "9.1 MiB", "70 KiB"]);
  });
});
