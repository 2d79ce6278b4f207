import { spawnSync } from "node:child_process";
import { truncateSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { specialFiles } from "../__fixtures__/special-files.js";
import { tempDir } from "./__fixtures__/helpers.js";
import { formatBytes } from "./limits.js";
import { checkFileSync, readFileLimited, readFileSyncLimited, UnreadableFile } from "./read-file.js";

const tmp = tempDir();
const fifo = join(tmp.dir, "fifo");
const socket = join(tmp.dir, "socket");
let close = (): void => undefined;
beforeAll(async () => void ({ close } = await specialFiles(tmp.dir)));
afterAll(() => {
  close();
  tmp.cleanup();
});

/** What each reader says about `path`: the content or the refusal. */
async function both(path: string, kind: Parameters<typeof readFileLimited>[1]): Promise<[string, string]> {
  const said = (f: () => Buffer): string => {
    try {
      return f().toString("utf8");
    } catch (err) {
      expect(err).toBeInstanceOf(UnreadableFile);
      return (err as Error).message;
    }
  };
  let async: string;
  try {
    async = (await readFileLimited(path, kind)).toString("utf8");
  } catch (err) {
    expect(err).toBeInstanceOf(UnreadableFile);
    async = (err as Error).message;
  }
  return [said(() => readFileSyncLimited(path, kind)), async];
}

describe("reading a file the configuration names", () => {
  it("reads a regular file, and a /proc file that reports a size of 0", async () => {
    expect(await both(tmp.write("pw", "s3cret\n"), "secret")).toEqual(["s3cret\n", "s3cret\n"]);
    const [sync, async] = await both("/proc/self/status", "secret");
    expect(sync).toMatch(/^Name:/);
    expect(async).toMatch(/^Name:/);
  });

  it("refuses a FIFO without waiting for a writer, a device, a directory and a socket", async () => {
    for (const [path, what] of [
      [fifo, "a FIFO"],
      ["/dev/zero", "a character device"],
      [tmp.dir, "a directory"],
      [socket, "a socket"],
    ]) {
      const refusal = `cannot read ${JSON.stringify(path)}: it is ${what}, not a regular file`;
      expect(await both(path!, "secret")).toEqual([refusal, refusal]);
    }
  });

  it("refuses a file over its kind's limit by its size, and names a missing one", async () => {
    const big = tmp.write("big.yaml", "");
    truncateSync(big, 8 * 1024 * 1024 + 1);
    const over = `cannot read "${big}": it is 8 MiB, over the 8 MiB limit for a configuration file`;
    expect(await both(big, "config")).toEqual([over, over]);
    truncateSync(big, 8 * 1024 * 1024);
    expect((await readFileLimited(big, "config")).length).toBe(8 * 1024 * 1024);
    const missing = `cannot read "${tmp.dir}/nope": ENOENT`;
    expect(await both(`${tmp.dir}/nope`, "pem")).toEqual([missing, missing]);
  });

  it("checks a path by stat alone", () => {
    expect(() => checkFileSync(fifo, "webConfig")).toThrow(`cannot read "${fifo}": it is a FIFO, not a regular file`);
    expect(() => checkFileSync(`${tmp.dir}/nope`)).toThrow(expect.objectContaining({ detail: "ENOENT" }));
    expect(() => checkFileSync(tmp.write("ok", "x"), "webConfig")).not.toThrow();
  });

  it("leaves module loading intact after refusing a FIFO (Node's realpathSync reads the last plain stat)", () => {
    // A plain statSync of a FIFO, then an import through pnpm's symlinks: "Cannot find module".
    const readFile = new URL("../../dist/config/read-file.js", import.meta.url).href;
    const script = `
      const { readFileSyncLimited } = await import(${JSON.stringify(readFile)});
      try { readFileSyncLimited(${JSON.stringify(fifo)}, "secret"); } catch {}
      await import("@alfred/db-health-driver-postgres");
      console.log("loaded");`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: fileURLToPath(new URL("../..", import.meta.url)), encoding: "utf8", timeout: 20_000 });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("loaded\n");
  });

  it("shows sizes as a person would", () => {
    expect([formatBytes(300), formatBytes(64 * 1024), formatBytes(9.1 * 1024 * 1024), formatBytes(70 * 1024 + 8)]).toEqual(["300 bytes", "64 KiB", "9.1 MiB", "70 KiB"]);
  });
});
