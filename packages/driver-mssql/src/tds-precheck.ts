import { connect, type Socket } from "node:net";
import { DbHealthError } from "@alfred/db-health-core";

const PRELOGIN = 0x12;
const TABULAR_RESULT = 0x04;
const HEADER = 8;
const MAX_PACKET = 32_767;

/**
 * Checks that the server at host:port speaks TDS, with one PRELOGIN exchange on a plain socket
 * of its own, before tedious is given the address. It asks for encryption as tedious will
 * (`encrypt`: ON, else NOT_SUP), so the server answers it as it will answer tedious. tedious 18 parses a malformed PRELOGIN reply
 * (an HTTP or SSH server on the port, a proxy answering garbage) by throwing on `nextTick`, which
 * would crash the whole process; this check turns such a server into a clear `connect` error.
 * It resolves with what the server says of encryption when the reply is a well-formed PRELOGIN
 * response, and rejects otherwise or when `signal` aborts (the connect deadline), closing its
 * socket either way.
 *
 * @example
 * ```ts
 * const { encryption } = await checkSpeaksTds("db.internal", 1433, true, AbortSignal.timeout(5000));
 * ```
 */
export function checkSpeaksTds(host: string, port: number, encrypt: boolean, signal: AbortSignal): Promise<{ encryption: TdsEncryption | undefined }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host, port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (err?: Error, encryption?: TdsEncryption): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve({ encryption });
    };
    const notTds = (why: string): void =>
      finish(new DbHealthError("connect", `${host}:${port} does not speak TDS (not a SQL Server?): ${why}`, { driver: "mssql" }));
    const onAbort = (): void => finish(new DbHealthError("timeout", "connect aborted", { driver: "mssql" }));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => socket.write(preloginPacket(encrypt)));
    socket.on("error", (err) => finish(err));
    socket.once("end", () => notTds(received.length === 0 ? "the server closed the connection without answering (a SQL Server that requires encrypt=strict does that to a plain PRELOGIN)" : "the reply ended early"));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < HEADER) return;
      const type = received[0];
      const length = received.readUInt16BE(2);
      if (type !== TABULAR_RESULT) return notTds(`reply starts with 0x${type!.toString(16).padStart(2, "0")} (${printable(received)}), not a TDS response`);
      if (length < HEADER + 1 || length > MAX_PACKET) return notTds(`reply packet length ${length} is not valid`);
      if ((received[1]! & 0x01) === 0) return notTds("PRELOGIN reply spans several packets");
      if (received.length < length) return;
      const reply = readPrelogin(received.subarray(HEADER, length));
      if (typeof reply === "string") notTds(reply);
      else finish(undefined, reply.encryption);
    });
  });
}

/** A minimal PRELOGIN request: VERSION and ENCRYPTION (ON or NOT_SUP) options, then the terminator. */
function preloginPacket(encrypt: boolean): Buffer {
  const options = Buffer.from([0x00, 0x00, 0x0b, 0x00, 0x06, 0x01, 0x00, 0x11, 0x00, 0x01, 0xff]);
  const data = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x00, 0x00, encrypt ? 0x01 : 0x02]); // version 0.0.0.0
  const payload = Buffer.concat([options, data]);
  const header = Buffer.from([PRELOGIN, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00]);
  header.writeUInt16BE(HEADER + payload.length, 2);
  return Buffer.concat([header, payload]);
}

// Bytes tedious reads at an option's offset, whatever length the option declares.
const READS: Record<number, number> = { 0x00: 6, 0x01: 1, 0x02: 1, 0x03: 4, 0x04: 1, 0x06: 1 };

/** The server's ENCRYPTION answer in PRELOGIN: `not-supported` means no TLS at all. */
export type TdsEncryption = "off" | "on" | "not-supported" | "required";
const ENCRYPTION: Record<number, TdsEncryption> = { 0x00: "off", 0x01: "on", 0x02: "not-supported", 0x03: "required" };

/** Why a PRELOGIN response payload is malformed, or what it says of encryption when well-formed. */
function readPrelogin(payload: Buffer): string | { encryption: TdsEncryption | undefined } {
  let i = 0;
  let sawVersion = false;
  let encryption: TdsEncryption | undefined;
  while (i < payload.length && payload[i] !== 0xff) {
    if (i + 5 > payload.length) return "option table runs past the packet";
    const token = payload[i]!;
    const offset = payload.readUInt16BE(i + 1);
    const length = payload.readUInt16BE(i + 3);
    const reads = token === 0x03 && length === 0 ? 0 : Math.max(length, READS[token] ?? 0);
    if (offset + reads > payload.length) return `option 0x${token.toString(16)} points past the packet`;
    if (token === 0x00 && length >= 6) sawVersion = true;
    if (token === 0x01 && length >= 1) encryption = ENCRYPTION[payload[offset]!];
    i += 5;
  }
  if (i >= payload.length) return "option table has no terminator";
  return sawVersion ? { encryption } : "no VERSION option in the reply";
}

function printable(buf: Buffer): string {
  return JSON.stringify(buf.subarray(0, 16).toString("latin1").replace(/[^\x20-\x7e]/g, "."));
}
