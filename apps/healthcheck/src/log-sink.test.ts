import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LogSink } from "./log-sink.js";

const opened: number[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const fd of opened.splice(0)) closeSync(fd);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A FIFO with a reader that reads only when asked, and a blocking writer: a stuck log shipper. */
function stuckPipe(): { writer: number; readAll: () => string } {
  const dir = mkdtempSync(join(tmpdir(), "dbh-log-sink-"));
  dirs.push(dir);
  const path = join(dir, "log");
  execFileSync("mkfifo", [path]);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY);
  opened.push(reader, writer);
  const buffer = Buffer.alloc(1 << 16);
  return {
    writer,
    readAll: () => {
      let text = "";
      for (;;) {
        try {
          const n = readSync(reader, buffer, 0, buffer.length, null);
          if (n === 0) return text;
          text += buffer.toString("utf8", 0, n);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "EAGAIN") return text;
          throw err;
        }
      }
    },
  };
}

const line = (i: number): string => `${JSON.stringify({ level: "info", i, pad: "x".repeat(200) })}\n`;
const until = async (done: () => boolean): Promise<void> => {
  while (!done()) await new Promise((r) => setTimeout(r, 5));
};

describe("LogSink", () => {
  it("never waits for a pipe nobody reads: the lines are kept and follow, in order, once it is read", async () => {
    const pipe = stuckPipe();
    const sink = new LogSink(pipe.writer);
    // ~540 KB against a 64 KiB pipe: a blocking write would hang here.
    for (let i = 0; i < 2000; i++) sink.write(line(i));
    expect(sink.pending).toBeGreaterThan(0);
    let text = "";
    await until(() => ((text += pipe.readAll()), sink.pending === 0));
    text += pipe.readAll();
    const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l) as { i: number });
    expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    sink.close();
  });

  it("drops what it cannot keep (over 1 MiB), counts it and says so once lines pass again", async () => {
    const pipe = stuckPipe();
    const sink = new LogSink(pipe.writer, { note: (n) => `dropped ${n}\n` });
    for (let i = 0; i < 8000; i++) sink.write(line(i));
    expect(sink.pending).toBeLessThanOrEqual(1024 * 1024);
    let text = "";
    await until(() => ((text += pipe.readAll()), sink.pending === 0 && text.includes("dropped")));
    const kept = text.split("\n").filter((l) => l.startsWith("{")).length;
    const dropped = Number(/dropped (\d+)/.exec(text)?.[1]);
    expect(kept + dropped).toBe(8000);
    expect(dropped).toBeGreaterThan(0);
    sink.close();
  });

  it("does not throw on a full disk: the lines are counted as dropped", () => {
    const full = openSync("/dev/full", "w");
    opened.push(full);
    const sink = new LogSink(full, { note: (n) => `dropped ${n}\n` });
    expect(() => {
      for (let i = 0; i < 10; i++) sink.write(line(i));
    }).not.toThrow();
    sink.close();
  });
});
