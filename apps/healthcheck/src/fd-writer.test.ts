import { Writable } from "node:stream";
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

function sink(): { stream: Writable; text: () => string } {
  let text = "";
  const stream = new Writable({ write: (chunk: Buffer, _enc, done) => ((text += chunk.toString()), done()) });
  return { stream, text: () => text };
}

afterEach(() => {
  calls.length = 0;
  answers = [];
});

describe("FdWriter", () => {
  it("writes everything, going on after a partial write", () => {
    answers = [3];
    const w = new FdWriter(1, () => sink().stream);
    expect(w.write("200 ready\n")).toBe(true);
    expect(calls).toEqual([{ fd: 1, bytes: "200" }, { fd: 1, bytes: " ready\n" }]);
  });

  it("hands the rest, and every later write, to the stream when the descriptor would block", () => {
    const s = sink();
    let made = 0;
    const w = new FdWriter(2, () => (made++, s.stream));
    answers = [4, "EAGAIN"];
    w.write("abcdefgh");
    w.write("ij");
    expect(calls).toEqual([{ fd: 2, bytes: "abcd" }]);
    expect(s.text()).toBe("efghij");
    expect(made).toBe(1);
  });

  it("drops what is left once the reader is gone (EPIPE), which is no failure", () => {
    const w = new FdWriter(1, () => sink().stream);
    answers = ["EPIPE"];
    expect(w.write("x")).toBe(false);
    expect(w.write("y")).toBe(false);
    expect(calls).toEqual([]);
    expect(w.failure).toBeUndefined();
  });

  it("never throws: output lost to a full disk or an I/O error is kept as the failure", () => {
    for (const code of ["ENOSPC", "EIO", "EBADF"]) {
      const w = new FdWriter(1, () => sink().stream);
      answers = [code];
      expect(w.write("z")).toBe(false);
      expect(w.write("z")).toBe(false);
      expect(w.failure?.code).toBe(code);
    }
  });

  it("counts what its stream still holds, and an error of the stream as the failure", () => {
    let release: (() => void) | undefined;
    const slow = new Writable({ write: (_chunk, _enc, done) => void (release = done) });
    const w = new FdWriter(1, () => slow);
    answers = ["EAGAIN"];
    w.write("abc");
    w.write("defg");
    expect(w.pending).toBe(7);
    release?.();
    release?.();
    expect(w.pending).toBe(0);
    slow.emit("error", Object.assign(new Error("EIO"), { code: "EIO" }));
    expect(w.failure?.code).toBe("EIO");
    expect(w.write("h")).toBe(false);
  });
});
