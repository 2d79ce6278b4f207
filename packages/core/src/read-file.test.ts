import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readFileLimited } from "./read-file.js";

const dir = mkdtempSync(join(tmpdir(), "dbh-read-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("readFileLimited", () => {
  it("reads a regular file up to the limit", () => {
    const path = join(dir, "ok");
    writeFileSync(path, "x".repeat(100));
    expect(readFileLimited(path, 100).toString()).toBe("x".repeat(100));
  });

  it("refuses a larger file without reading it", () => {
    const path = join(dir, "big");
    writeFileSync(path, Buffer.alloc(3 * 1024 * 1024 + 7));
    expect(() => readFileLimited(path, 1024 * 1024)).toThrow("is 3.0 MiB, over the 1 MiB limit");
    expect(() => readFileLimited(path, 64 * 1024)).toThrow("is 3.0 MiB, over the 64 KiB limit");
  });

  it("refuses a FIFO at once instead of blocking in open()", () => {
    const fifo = join(dir, "fifo");
    spawnSync("mkfifo", [fifo]);
    expect(() => readFileLimited(fifo, 1024)).toThrow("is a FIFO, not a regular file");
  });

  it("refuses devices and directories", () => {
    expect(() => readFileLimited("/dev/zero", 1024)).toThrow("is a character device, not a regular file");
    expect(() => readFileLimited("/dev/null", 1024)).toThrow("is a character device, not a regular file");
    expect(() => readFileLimited(dir, 1024)).toThrow("is a directory, not a regular file");
  });

  it("says why a file cannot be opened, with the errno code", () => {
    expect(() => readFileLimited(join(dir, "missing"), 1024)).toThrow("cannot be read (ENOENT)");
  });
});
