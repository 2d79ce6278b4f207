/**
 * A loopback server that speaks just enough TDS to take tedious through PRELOGIN and LOGIN7, so
 * that tests can make tedious itself fail (there is no SQL Server here). It answers each
 * connection's first PRELOGIN (the driver's pre-check and tedious alike) with VERSION and the
 * ENCRYPTION a SQL Server with the chosen setting would give (MS-TDS 2.2.6.5): `not-supported`
 * (no certificate) always answers NOT_SUP; `off` (the default SQL Server) answers the client's
 * ON with ON, OFF with OFF and NOT_SUP with NOT_SUP. It speaks no TLS: once it answered ON, the
 * client's TLS handshake gets the connection closed. It decodes every LOGIN7 it receives, and
 * then either stays silent, fails the login with an ERROR token the test chooses, or (`accept`)
 * logs the client in and answers every batch and RPC with an empty DONE, so that a connection
 * stays open until the test drops it (`dropConnections()`), as a server that went away.
 * Given a certificate instead (`{ key, cert }`), it is a SQL Server with Force Encryption: it
 * answers ON (REQ to a client's OFF), takes the TLS handshake inside PRELOGIN packets and then
 * speaks TDS inside TLS (TDS 7.x, see fake-tds-tls.ts).
 * An `answer` hook may instead reply to a batch or RPC with one result set (INT and NVARCHAR
 * columns), or not at all (`"silent"`, until the client's ATTENTION); every batch, RPC and
 * attention is recorded in `messages`, its text decoded.
 */
import { createServer, type Socket } from "node:net";
import { tdsTls, type FakeTdsTls } from "./fake-tds-tls.js";

export type { FakeTdsTls } from "./fake-tds-tls.js";

const PRELOGIN = 0x12;
const LOGIN7 = 0x10;
const SQL_BATCH = 0x01;
const RPC = 0x03;
const ATTENTION = 0x06;
const TABULAR_RESULT = 0x04;
const HEADER = 8;

/** What a LOGIN7 carried, decoded (the password unscrambled). */
export interface FakeTdsLogin {
  user: string;
  password: string;
  appName: string;
  database: string;
}

/** A batch, RPC or attention the server received; `text` is the SQL (for an RPC, its whole payload read as UTF-16, parameters included). */
export interface FakeTdsMessage {
  kind: "batch" | "rpc" | "attention";
  text: string;
}

/** A reply to a batch or RPC: one result set, or none at all until the client's attention. */
export type FakeTdsAnswer = "silent" | { columns: ReadonlyArray<{ name: string; type: "int" | "nvarchar" }>; rows: ReadonlyArray<ReadonlyArray<number | string>> };

/** How the server answers a LOGIN7. */
export type FakeTdsLoginReply = "silent" | "accept" | ((login: FakeTdsLogin) => { number: number; message: string });

export interface FakeTdsServer {
  readonly port: number;
  /** Every LOGIN7 received, in order: proof that tedious really sent these credentials. */
  readonly logins: readonly FakeTdsLogin[];
  /** Every batch, RPC and attention received after login, in order. */
  readonly messages: readonly FakeTdsMessage[];
  /** Accepted connections the client has not closed yet. */
  openSockets(): number;
  /** Destroys every accepted socket, as a server that died would, and goes on listening. */
  dropConnections(): number;
  /** Destroys every accepted socket and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a fake TDS server on 127.0.0.1.
 *
 * @example
 * ```ts
 * const tds = await fakeTdsServer((login) => ({ number: 18456, message: `Login failed for user '${login.user}'.` }));
 * await createDriver({ dsn: `sqlserver://sa:pw@127.0.0.1:${tds.port}/master?encrypt=false` }).probe();
 * tds.logins[0]?.password; // "pw"
 * ```
 */
export async function fakeTdsServer(
  reply: FakeTdsLoginReply = "silent",
  encryption: "not-supported" | "off" | FakeTdsTls = "not-supported",
  answer: (message: FakeTdsMessage) => FakeTdsAnswer | undefined = () => undefined,
): Promise<FakeTdsServer> {
  const sockets = new Set<Socket>();
  const logins: FakeTdsLogin[] = [];
  const messages: FakeTdsMessage[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
    let pending = Buffer.alloc(0);
    let message: Buffer[] = [];
    let prelogins = 0;
    // Replies go through TLS once the handshake is done; TDS packets come out of it.
    let send = (data: Buffer): void => void socket.write(data);
    const tls = typeof encryption === "object" ? tdsTls(socket, encryption, (flight) => packet(PRELOGIN, flight), (chunk) => onData(chunk)) : undefined;
    if (tls) send = (data) => (tls.raw ? tls.write(data) : void socket.write(data));
    // A request answered "silent": its response is still open when the attention comes.
    let unanswered = false;
    socket.on("data", (chunk: Buffer) => {
      if (!tls?.raw) onData(chunk);
    });
    const onData = (chunk: Buffer): void => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= HEADER) {
        const length = pending.readUInt16BE(2);
        if (length < HEADER) return void socket.destroy();
        if (pending.length < length) return;
        const type = pending[0]!;
        const last = (pending[1]! & 0x01) === 1;
        message.push(pending.subarray(HEADER, length));
        pending = pending.subarray(length);
        if (!last) continue;
        const payload = Buffer.concat(message);
        message = [];
        if (type === PRELOGIN) {
          // a second PRELOGIN carries the client's TLS handshake
          if (prelogins++ > 0) {
            if (!tls) return void socket.destroy();
            tls.handshake(payload);
            continue;
          }
          const asked = clientEncryption(payload);
          if (tls) socket.write(preloginReply(asked === 0x01 || asked === 0x03 ? 0x01 : 0x03));
          else socket.write(preloginReply(encryption === "not-supported" ? 0x02 : asked === 0x01 || asked === 0x03 ? 0x01 : (asked ?? 0x02)));
        }
        else if (type === LOGIN7) {
          const login = decodeLogin7(payload);
          logins.push(login);
          if (reply === "accept") send(packet(TABULAR_RESULT, Buffer.concat([loginAckToken(), doneToken(0x0000)])));
          else if (reply !== "silent") {
            const { number, message: text } = reply(login);
            send(packet(TABULAR_RESULT, Buffer.concat([errorToken(number, text), doneToken(0x0002)])));
          }
        } else if (type === SQL_BATCH || type === RPC) {
          const received: FakeTdsMessage = { kind: type === SQL_BATCH ? "batch" : "rpc", text: requestText(type, payload) };
          messages.push(received);
          const answered = answer(received);
          // By default every statement "succeeds" with no result set: enough for connect and ping.
          unanswered = answered === "silent";
          if (answered === undefined) send(packet(TABULAR_RESULT, doneToken(0x0000)));
          else if (answered !== "silent") send(packet(TABULAR_RESULT, Buffer.concat([resultSet(answered.columns, answered.rows), doneToken(0x0010, answered.rows.length)])));
        } else if (type === ATTENTION) {
          messages.push({ kind: "attention", text: "" });
          // As SQL Server does: the interrupted request's response ends, then the acknowledgement.
          if (unanswered) send(packet(TABULAR_RESULT, doneToken(0x0000)));
          unanswered = false;
          send(packet(TABULAR_RESULT, doneToken(0x0020)));
        }
      }
    };
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1" }, () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    port,
    logins,
    messages,
    openSockets: () => sockets.size,
    dropConnections: () => {
      const n = sockets.size;
      for (const s of sockets) s.destroy();
      return n;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** PRELOGIN response: VERSION 16.0, the given ENCRYPTION byte, terminator. */
function preloginReply(encryption: number): Buffer {
  const options = Buffer.from([0x00, 0x00, 0x0b, 0x00, 0x06, 0x01, 0x00, 0x11, 0x00, 0x01, 0xff]);
  return packet(TABULAR_RESULT, Buffer.concat([options, Buffer.from([0x10, 0x00, 0x00, 0x00, 0x00, 0x00, encryption])]));
}

/** The ENCRYPTION byte of a client's PRELOGIN, if it has one. */
function clientEncryption(payload: Buffer): number | undefined {
  for (let i = 0; i + 5 <= payload.length && payload[i] !== 0xff; i += 5) {
    if (payload[i] === 0x01) return payload[payload.readUInt16BE(i + 1)];
  }
  return undefined;
}

/** ERROR token (TDS 7.2+: 4-byte line number). */
function errorToken(number: number, text: string): Buffer {
  const msg = Buffer.from(text, "utf16le");
  const serverName = Buffer.from("fake-tds", "utf16le");
  const body = Buffer.alloc(4 + 1 + 1 + 2 + msg.length + 1 + serverName.length + 1 + 4);
  let at = body.writeInt32LE(number, 0);
  at = body.writeUInt8(1, at); // state
  at = body.writeUInt8(14, at); // class: a login failure's severity
  at = body.writeUInt16LE(text.length, at);
  at += msg.copy(body, at);
  at = body.writeUInt8(serverName.length / 2, at);
  at += serverName.copy(body, at);
  at = body.writeUInt8(0, at); // no procedure name
  body.writeInt32LE(1, at);
  const head = Buffer.from([0xaa, 0, 0]);
  head.writeUInt16LE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** LOGINACK token: T-SQL interface, TDS 7.4, program "fake-tds" version 16.0.0.0. */
function loginAckToken(): Buffer {
  const name = Buffer.from("fake-tds", "utf16le");
  const body = Buffer.concat([Buffer.from([0x01, 0x74, 0x00, 0x00, 0x04, name.length / 2]), name, Buffer.from([16, 0, 0, 0])]);
  const head = Buffer.from([0xad, 0, 0]);
  head.writeUInt16LE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** DONE token with the given status (0x0002: error, 0x0010: the count is valid, 0x0020: attention acknowledged). */
function doneToken(status: number, rowCount = 0): Buffer {
  const done = Buffer.alloc(13);
  done.writeUInt8(0xfd, 0);
  done.writeUInt16LE(status, 1);
  done.writeBigUInt64LE(BigInt(rowCount), 5);
  return done;
}

/** COLMETADATA and ROW tokens: INTN(4) and NVARCHAR(4000) columns. */
function resultSet(columns: ReadonlyArray<{ name: string; type: "int" | "nvarchar" }>, rows: ReadonlyArray<ReadonlyArray<number | string>>): Buffer {
  const head = Buffer.alloc(3);
  head.writeUInt8(0x81, 0);
  head.writeUInt16LE(columns.length, 1);
  const meta = columns.map(({ name, type }) => {
    const fixed = Buffer.alloc(6); // UserType (4), Flags (2): nullable
    fixed.writeUInt16LE(0x0001, 4);
    const typeInfo = type === "int" ? Buffer.from([0x26, 4]) : Buffer.from([0xe7, 0x40, 0x1f, 0x09, 0x04, 0xd0, 0x00, 0x34]); // 8000 bytes, Latin1_General_CI_AS
    return Buffer.concat([fixed, typeInfo, Buffer.from([name.length]), Buffer.from(name, "utf16le")]);
  });
  const data = rows.map((row) =>
    Buffer.concat([
      Buffer.from([0xd1]),
      ...row.map((value, i) => {
        if (columns[i]!.type === "int") {
          const b = Buffer.alloc(5);
          b.writeUInt8(4, 0);
          b.writeInt32LE(Number(value), 1);
          return b;
        }
        const text = Buffer.from(String(value), "utf16le");
        const len = Buffer.alloc(2);
        len.writeUInt16LE(text.length);
        return Buffer.concat([len, text]);
      }),
    ]),
  );
  return Buffer.concat([head, ...meta, ...data]);
}

/** A batch's SQL after its ALL_HEADERS; an RPC's payload read as UTF-16 at both byte alignments (its parameters are in there). */
function requestText(type: number, payload: Buffer): string {
  const headers = payload.length >= 4 ? payload.readUInt32LE(0) : 0;
  const body = payload.subarray(Math.min(headers, payload.length));
  return type === SQL_BATCH ? body.toString("utf16le") : `${body.toString("utf16le")}\n${body.subarray(1).toString("utf16le")}`;
}

function packet(type: number, payload: Buffer): Buffer {
  const header = Buffer.from([type, 0x01, 0, 0, 0, 0, 0x01, 0]);
  header.writeUInt16BE(HEADER + payload.length, 2);
  return Buffer.concat([header, payload]);
}

// LOGIN7: a fixed part, then (offset, length in characters) pairs into the UTF-16LE data.
function decodeLogin7(p: Buffer): FakeTdsLogin {
  const field = (at: number, scrambled = false): string => {
    const start = p.readUInt16LE(at);
    const bytes = Buffer.from(p.subarray(start, start + 2 * p.readUInt16LE(at + 2)));
    // The password goes over the wire with each byte's nibbles swapped and XORed with 0xA5.
    if (scrambled) for (let i = 0; i < bytes.length; i++) bytes[i] = ((bytes[i]! ^ 0xa5) >> 4) | (((bytes[i]! ^ 0xa5) & 0x0f) << 4);
    return bytes.toString("utf16le");
  };
  return { user: field(40), password: field(44, true), appName: field(48), database: field(68) };
}
