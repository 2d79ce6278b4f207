/**
 * TLS the way SQL Server speaks it under TDS 7.x, for the fake TDS server: the handshake travels
 * inside PRELOGIN packets (one server flight per client message), then TLS records go over the
 * TCP stream as they are, and every TDS packet, LOGIN7 first, travels inside them. The server end
 * is node:tls on a pair of in-memory streams; TLS 1.2 at most, as tedious asks for.
 */
import { Duplex } from "node:stream";
import { createSecureContext, TLSSocket } from "node:tls";
import type { Socket } from "node:net";

/** A server certificate and its key, PEM. */
export interface FakeTdsTls {
  key: string | Buffer;
  cert: string | Buffer;
}

/** One connection's TLS, from the second PRELOGIN on. */
export interface TdsTlsSession {
  /** A PRELOGIN payload of the handshake: fed to the TLS server; `reply` gets its flight, wrapped. */
  handshake(payload: Buffer): void;
  /** True once the handshake's last flight went out: from then on the socket carries raw TLS. */
  readonly raw: boolean;
}

/**
 * Starts the server side of TDS 7.x TLS on `socket`. `wrap` turns a handshake flight into the
 * PRELOGIN packet that carries it; `onPacketData` gets the cleartext (TDS packets) once the
 * handshake is done; the returned `write` sends cleartext back through TLS.
 */
export function tdsTls(socket: Socket, credentials: FakeTdsTls, wrap: (flight: Buffer) => Buffer, onPacketData: (chunk: Buffer) => void): TdsTlsSession & { write(data: Buffer): void } {
  const [inner, outer] = duplexPair();
  const secure = new TLSSocket(inner, { isServer: true, secureContext: createSecureContext({ ...credentials, maxVersion: "TLSv1.2" }) });
  secure.on("error", () => socket.destroy());
  socket.on("close", () => secure.destroy());
  secure.on("data", (chunk: Buffer) => onPacketData(chunk));
  let raw = false;
  let flight: Buffer[] = [];
  outer.on("data", (chunk: Buffer) => {
    if (raw) return void socket.write(chunk);
    flight.push(chunk);
    const all = Buffer.concat(flight);
    if (!flightComplete(all)) return;
    flight = [];
    socket.write(wrap(all));
    // After the flight with ChangeCipherSpec the client leaves the PRELOGIN framing.
    if (records(all).some((r) => r.type === CHANGE_CIPHER_SPEC)) raw = true;
  });
  socket.on("data", (chunk: Buffer) => {
    if (raw) outer.write(chunk);
  });
  return {
    handshake: (payload) => void outer.write(payload),
    get raw() {
      return raw;
    },
    write: (data) => void secure.write(data),
  };
}

const CHANGE_CIPHER_SPEC = 20;
const HANDSHAKE = 22;
const SERVER_HELLO_DONE = 14;

function records(data: Buffer): Array<{ type: number; fragment: Buffer }> {
  const out: Array<{ type: number; fragment: Buffer }> = [];
  for (let at = 0; at + 5 <= data.length; ) {
    const length = data.readUInt16BE(at + 3);
    if (at + 5 + length > data.length) break;
    out.push({ type: data[at]!, fragment: data.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

/**
 * A TLS 1.2 server flight ends with ServerHelloDone (plaintext) or with the (encrypted) Finished
 * record after ChangeCipherSpec; only then does it go out as one PRELOGIN message.
 */
function flightComplete(data: Buffer): boolean {
  const list = records(data);
  const ccs = list.findIndex((r) => r.type === CHANGE_CIPHER_SPEC);
  if (ccs >= 0) return list.length > ccs + 1;
  const last = list.at(-1);
  return last?.type === HANDSHAKE && last.fragment.length >= 4 && last.fragment.subarray(-4).equals(Buffer.from([SERVER_HELLO_DONE, 0, 0, 0]));
}

/** Two connected in-memory streams: what is written to one is read from the other. */
function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const end = (other: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, done) {
        other().push(chunk);
        done();
      },
      final(done) {
        other().push(null);
        done();
      },
    });
  ends.push(end(() => ends[1]!), end(() => ends[0]!));
  return [ends[0]!, ends[1]!];
}
