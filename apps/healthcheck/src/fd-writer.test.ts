import { afterEach, describe, expect, it, vi } from "vitest";

// writeSync as the kernel answers it: partial writes, then EAGAIN or EPIPE.
const calls: Array<{ fd: number; bytes: string }> = [];
let answers: Array<number | string> = [];
vi.mock("node:fs", async (original) => ({
  ...(await original<typeof import("node:fs")>()),
  writeSync: (fd: number, buffer: Buffer, offset: number) => {
    const next = answers.shift() ?? buffer.length - offset;
    if (typeof next === "string") throw Object.assign(new Error(next), { code: next });
    calls.push({ fd, bytes: buffer.subarray(offset, offset + next).toString() });
    return next;
  },
}));
const { FdWriter } = await import("./fd-writer.js");

afterEach(() => {
  calls.length = 0;
  answers = [];
});

const until = async (done: () => boolean): Promise<void> => {
  while (!done()) await new Promise((r) => setTimeout(r, 5));
};

describe("FdWriter", () => {
  it("writes everything, going on after a partial write", () => {
    answers = [3];
    const w = new FdWriter(1);
    expect(w.write("200 ready\n")).toBe(true);
    expect(calls).toEqual([{ fd: 1, bytes: "200" }, { fd: 1, bytes: " ready\n" }]);
  });

  it("keeps the rest, and every later write, when the descriptor would block, and writes them in order as the reader takes them", async () => {
    const w = new FdWriter(2);
    answers = [4, "EAGAIN"];
    w.write("abcdefgh");
    w.write("ij");
    expect(calls).toEqual([{ fd: 2, bytes: "abcd" }]);
    expect(w.pending).toBe(6);
    await until(() => w.pending === 0);
    expect(calls.map((c) => c.bytes).join("")).toBe("abcdefghij");
    expect(w.failure).toBeUndefined();
  });

  it("drops what it keeps when the reader goes away meanwhile (EPIPE): nothing is left to wait for", async () => {
    const w = new FdWriter(1);
    answers = ["EAGAIN", "EPIPE"];
    w.write("kept");
    w.write("more");
    expect(w.pending).toBe(8);
    await until(() => w.pending === 0);
    expect(w.failure).toBeUndefined();
  });

  it("drops what is left once the reader is gone (EPIPE), which is no failure", () => {
    const w = new FdWriter(1);
    answers = ["EPIPE"];
    expect(w.write("x")).toBe(false);
    expect(w.write("y")).toBe(false);
    expect(calls).toEqual([]);
    expect(w.failure).toBeUndefined();
  });

  it("never throws: output lost to a full disk or an I/O error is kept as the failure", async () => {
    for (const code of ["ENOSPC", "EIO", "EBADF"]) {
      const w = new FdWriter(1);
      answers = [code];
      expect(w.write("z")).toBe(false);
      expect(w.write("z")).toBe(false);
      expect(w.failure?.code).toBe(code);
    }
    // Also after the reader was slow: the kept output fails when it is written.
    const w = new FdWriter(1);
    answers = ["EAGAIN", "EIO"];
    w.write("late");
    await until(() => w.pending === 0);
    expect(w.failure?.code).toBe("EIO");
  });
});
