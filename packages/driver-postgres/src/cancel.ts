import { connect, type Socket } from "node:net";

/** Where a backend listens: TCP host/port, or a unix socket directory. */
export interface CancelTarget {
  host: string;
  port: number;
}

/**
 * Sends a protocol CancelRequest for a backend (a fresh connection carrying the backend's PID
 * and secret key; no authentication, not subject to pg_hba). Used when a phase misses its
 * deadline, so the statement stops on the server instead of running on after the client gave
 * up. Best effort and bounded: resolves within `timeoutMs` whatever happens.
 *
 * @example
 * ```ts
 * await sendCancel({ host: "127.0.0.1", port: 5432 }, client.processID, client.secretKey);
 * ```
 */
export function sendCancel(target: CancelTarget, processId: number, secretKey: number | Buffer, timeoutMs = 1000): Promise<void> {
  const key = typeof secretKey === "number" ? int32(secretKey) : secretKey;
  const packet = Buffer.concat([int32(8 + 4 + key.length), int32(80877102), int32(processId), key]);
  return new Promise((resolve) => {
    let socket: Socket;
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    // Never keeps the process alive (a `--once` run exits as soon as its work is done).
    const timer = setTimeout(done, timeoutMs).unref();
    socket = target.host.startsWith("/") ? connect(`${target.host}/.s.PGSQL.${target.port}`) : connect(target.port, target.host);
    socket.unref();
    socket.once("connect", () => socket.end(packet));
    socket.once("close", done);
    socket.once("error", done);
  });
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n | 0);
  return b;
}
