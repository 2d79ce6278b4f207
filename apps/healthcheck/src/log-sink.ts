import { closeSync, constants, fstatSync, openSync, writeSync } from "node:fs";

/** The most a sink holds while its reader does not read; lines beyond it are dropped and counted. */
const MAX_QUEUED_BYTES = 1024 * 1024;
/** How soon a sink whose reader stopped reading tries again, at first and at most. */
const RETRY_MS = [10, 1000] as const;
/** How long the process's exit waits for a reader to take what a sink still keeps. */
const EXIT_WAIT_MS = 500;

/** Every sink, for the lines still kept when the process exits. */
const sinks = new Set<LogSink>();
let exitHook = false;
const atExit = (): void => {
  const until = Date.now() + EXIT_WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (const sink of sinks) {
    sink.flush();
    // A reader that reads again gets the rest (the last lines: "stopped", a crash report).
    while (sink.pending > 0 && Date.now() < until) {
      Atomics.wait(pause, 0, 0, 10);
      sink.flush();
    }
  }
};

/** How a {@link LogSink} writes; every field has the log's default. */
export interface SinkOptions {
  /** Reopen a pipe with O_NONBLOCK for the sink alone. @default true */
  reopen?: boolean;
  /** The most kept while the reader does not read; beyond it lines are dropped and counted. @default 1 MiB */
  maxQueuedBytes?: number;
  /** Whether kept lines keep the process alive until written. @default false */
  keepAlive?: boolean;
  /** The line written once `n` lines were lost, when lines pass again; none when undefined. */
  note?: ((dropped: number) => string) | undefined;
}

const LOG_NOTE = (n: number): string =>
  `${JSON.stringify({ level: "warn", time: new Date().toISOString(), msg: `${n} log lines were dropped: the log's reader did not read them, or they could not be written` })}\n`;

/**
 * Where the daemon's log lines go (stderr): written at once when they can be, never waited for.
 * A log line must not stop the process: with a plain synchronous write, a reader that stops
 * reading (a stuck log shipper on a container's pipe) blocked the event loop once the pipe's
 * 64 KiB filled, so `/healthz` stopped answering and SIGTERM went unheard, and a full disk under
 * a log file threw out of whatever was logging and ended the daemon.
 *
 * - A pipe (what Docker, Kubernetes and a shell's `|` give) is opened once more through
 *   `/proc/self/fd/N` with O_NONBLOCK: that new open file description is the sink's own, so the
 *   descriptor that a wrapped program shares stays blocking for it. A full pipe then answers
 *   EAGAIN instead of blocking, and the sink keeps the lines (up to 1 MiB) and tries again later.
 * - Any other descriptor (a file, a terminal, a socket) is written as it is.
 * - A line that cannot be written (a full disk, EIO) or kept is dropped and counted; once lines
 *   pass again, one line says how many were lost. A reader that went away (EPIPE) ends the writes.
 * - The CLI's own output uses one too (fd-writer.ts), with other {@link SinkOptions}: nothing
 *   dropped, and the process kept alive until the reader has taken it.
 *
 * @example
 * ```ts
 * const sink = new LogSink(2);
 * sink.write('{"level":"info","msg":"listening"}\n');
 * ```
 */
export class LogSink {
  private readonly fd: number;
  private readonly own: boolean;
  private readonly maxQueued: number;
  private readonly keepAlive: boolean;
  private readonly note: ((dropped: number) => string) | undefined;
  private queue: Buffer[] = [];
  private queued = 0;
  private dropped = 0;
  private gone = false;
  private timer: NodeJS.Timeout | undefined;
  private retryMs: number = RETRY_MS[0];
  /** Why lines were lost, if a write failed for another reason than a reader that went away. */
  failure: NodeJS.ErrnoException | undefined;

  constructor(fd: number, options: SinkOptions = {}) {
    this.fd = fd;
    this.own = false;
    this.maxQueued = options.maxQueuedBytes ?? MAX_QUEUED_BYTES;
    this.keepAlive = options.keepAlive ?? false;
    this.note = "note" in options ? options.note : LOG_NOTE;
    try {
      if ((options.reopen ?? true) && fstatSync(fd).isFIFO()) {
        this.fd = openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK);
        this.own = true;
      }
    } catch {
      // No /proc (not Linux) or a descriptor it cannot reopen: write to it as it is.
    }
    sinks.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on("exit", atExit);
    }
  }

  /** Writes `line` now if it can, else keeps it for later (or drops it, counted). Never throws, never waits. */
  write(line: string | Uint8Array): void {
    if (this.gone) return;
    const bytes = typeof line === "string" ? Buffer.from(line, "utf8") : Buffer.from(line);
    if (this.queue.length > 0) return this.keep(bytes);
    const rest = this.writeNow(bytes);
    if (rest) this.keep(rest);
    else if (this.dropped > 0) this.drain();
  }

  /** Keeps `bytes` for the next try, without trying now (the caller's write was just refused). */
  later(bytes: Uint8Array): void {
    if (!this.gone) this.keep(Buffer.from(bytes));
  }

  /** Lines kept for a reader that did not read, in bytes. */
  get pending(): number {
    return this.queued;
  }

  /**
   * Writes what is kept, once, without waiting. At the process's exit every sink does this for up
   * to 500 ms while its reader takes lines; what it has not taken by then is lost.
   */
  flush(): void {
    this.drain();
  }

  /** Stops the retries and closes the sink's own descriptor; later lines are dropped. */
  close(): void {
    this.drain();
    clearTimeout(this.timer);
    this.gone = true;
    sinks.delete(this);
    if (this.own) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
    }
  }

  /**
   * What is left of `bytes` when the reader took only part of them or none (EAGAIN); undefined
   * when all went, or when they are lost (a full disk, EIO: counted) or nobody reads (EPIPE).
   */
  private writeNow(bytes: Buffer): Buffer | undefined {
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(this.fd, bytes, written);
      return undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") return bytes.subarray(written);
      if (code === "EPIPE") {
        // Nobody will read what is kept either.
        this.gone = true;
        this.queue = [];
        this.queued = 0;
      } else {
        this.dropped++;
        this.failure ??= err as NodeJS.ErrnoException;
      }
      return undefined;
    }
  }

  private keep(bytes: Buffer): void {
    if (this.queued + bytes.length > this.maxQueued) {
      this.dropped++;
    } else {
      this.queue.push(bytes);
      this.queued += bytes.length;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.gone) return;
    // Unless keepAlive, the retries do not keep the process alive: what a reader has not taken by
    // the exit (and the 500 ms it then gets) is lost.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const before = this.queued;
      this.drain();
      // A reader that took something is back: soon again; one that took nothing, later and later.
      this.retryMs = this.queued < before ? RETRY_MS[0] : Math.min(this.retryMs * 2, RETRY_MS[1]);
      if (this.queue.length > 0) this.schedule();
    }, this.retryMs);
    if (!this.keepAlive) this.timer.unref();
  }

  /** Writes the kept lines in order until the reader takes no more; then the note of what was dropped. */
  private drain(): void {
    while (this.queue.length > 0 && !this.gone) {
      const head = this.queue[0]!;
      const rest = this.writeNow(head);
      if (this.gone) return;
      this.queued -= head.length - (rest?.length ?? 0);
      if (rest) {
        this.queue[0] = rest;
        return;
      }
      this.queue.shift();
    }
    if (this.dropped > 0 && this.queue.length === 0 && !this.gone && this.note) {
      const n = this.dropped;
      this.dropped = 0;
      const note = Buffer.from(this.note(n), "utf8");
      const rest = this.writeNow(note);
      // Not taken: the count is said next time; taken in part: the rest follows.
      if (rest && rest.length === note.length) this.dropped += n;
      else if (rest) this.keep(rest);
    }
  }
}
