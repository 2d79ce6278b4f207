import { writeSync } from "node:fs";
import { LogSink } from "./log-sink.js";

/**
 * Writes to a standard file descriptor with `writeSync`, without creating process.stdout or
 * process.stderr: Node builds those streams on first use (~1–1.7 ms, loading node:stream when
 * nothing else has), which a one-shot `status` or `--version` pays for one line. A descriptor
 * that another process made non-blocking (EAGAIN) keeps what is left, and everything after, in a
 * {@link LogSink} that writes it as the reader takes it and keeps the process alive meanwhile
 * (`pending` counts it; run-cli.ts waits for it before exiting, and a stop signal ends the wait).
 * Not Node's stream: it makes the pipe blocking, and a write the reader does not take then stops
 * the process, signals included. Nothing written here ever throws: a reader that went away
 * (EPIPE) gets nothing more, and output lost otherwise (a full disk, EIO) is kept in `failure`
 * for the exit code.
 *
 * @example
 * ```ts
 * const out = new FdWriter(1);
 * out.write("200 ready\n");
 * ```
 */
export class FdWriter {
  private rest: LogSink | undefined;
  private gone = false;
  private lost: NodeJS.ErrnoException | undefined;

  constructor(readonly fd: 1 | 2) {}

  write(chunk: string): boolean {
    if (this.gone) return false;
    if (this.rest) {
      this.rest.write(chunk);
      return true;
    }
    const bytes = Buffer.from(chunk, "utf8");
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(this.fd, bytes, written);
      return true;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== "EAGAIN") {
        this.gone = true;
        if (e.code !== "EPIPE") this.lost ??= e;
        return false;
      }
      this.rest = new LogSink(this.fd, { reopen: false, maxQueuedBytes: Number.POSITIVE_INFINITY, keepAlive: true, note: undefined });
      this.rest.later(bytes.subarray(written));
      return true;
    }
  }

  /** Bytes the reader has not taken yet. */
  get pending(): number {
    return this.rest?.pending ?? 0;
  }

  /** Why output was lost, if it was for another reason than a reader that went away. */
  get failure(): NodeJS.ErrnoException | undefined {
    return this.lost ?? this.rest?.failure;
  }
}
