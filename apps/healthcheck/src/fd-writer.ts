import { writeSync } from "node:fs";

/**
 * Writes to a standard file descriptor with `writeSync`, without creating process.stdout or
 * process.stderr: Node builds those streams on first use (~1–1.7 ms, loading node:stream when
 * nothing else has), which a one-shot `status` or `--version` pays for one line. A reader that
 * went away (EPIPE) gets nothing more, as crash.ts treats a gone reader; a descriptor that
 * another process made non-blocking (EAGAIN) hands what is left, and everything after, to
 * Node's stream, which waits for it.
 *
 * @example
 * ```ts
 * const out = new FdWriter(1, () => process.stdout);
 * out.write("200 ready\n");
 * ```
 */
export class FdWriter {
  private stream: NodeJS.WritableStream | undefined;
  private gone = false;

  constructor(
    readonly fd: 1 | 2,
    private readonly fallback: () => NodeJS.WritableStream,
  ) {}

  write(chunk: string): boolean {
    if (this.stream) return this.stream.write(chunk);
    if (this.gone) return false;
    const bytes = Buffer.from(chunk, "utf8");
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(this.fd, bytes, written);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EPIPE") {
        this.gone = true;
        return false;
      }
      if (code !== "EAGAIN") throw err;
      this.stream = this.fallback();
      return this.stream.write(bytes.subarray(written));
    }
  }
}
