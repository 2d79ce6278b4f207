import { writeSync } from "node:fs";

/**
 * Writes to a standard file descriptor with `writeSync`, without creating process.stdout or
 * process.stderr: Node builds those streams on first use (~1–1.7 ms, loading node:stream when
 * nothing else has), which a one-shot `status` or `--version` pays for one line. A descriptor
 * that another process made non-blocking (EAGAIN) hands what is left, and everything after, to
 * Node's stream, which writes it as the reader takes it (`pending` counts what it still holds;
 * run-cli.ts waits for it before exiting). Nothing written here ever throws: a reader that went
 * away (EPIPE) gets nothing more, and output lost otherwise (a full disk, EIO) is kept in
 * `failure` for the exit code.
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
  /** Why output was lost, if it was for another reason than a reader that went away. */
  failure: NodeJS.ErrnoException | undefined;

  constructor(
    readonly fd: 1 | 2,
    private readonly fallback: () => NodeJS.WritableStream,
  ) {}

  write(chunk: string): boolean {
    if (this.gone) return false;
    if (this.stream) return this.stream.write(chunk);
    const bytes = Buffer.from(chunk, "utf8");
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(this.fd, bytes, written);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") {
        this.lose(err as NodeJS.ErrnoException);
        return false;
      }
      this.stream = this.fallback();
      this.stream.on("error", (e: NodeJS.ErrnoException) => this.lose(e));
      return this.stream.write(bytes.subarray(written));
    }
  }

  /** Bytes handed to Node's stream that the reader has not taken yet. */
  get pending(): number {
    return this.gone ? 0 : ((this.stream as { writableLength?: number } | undefined)?.writableLength ?? 0);
  }

  private lose(err: NodeJS.ErrnoException): void {
    this.gone = true;
    if (err.code !== "EPIPE" && err.code !== "ERR_STREAM_DESTROYED") this.failure ??= err;
  }
}
