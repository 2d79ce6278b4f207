/**
 * The server's connection limit and the TLS certificate's expiry (`db_connections_max`,
 * `db_tls_certificate_expiry_timestamp_seconds`): informative figures of a cycle, never a reason
 * to degrade. Each records into the cycle's `extras`, which its outcome carries.
 */
import type { TargetConfig } from "../config/types.js";
import type { CycleRecorder } from "./cycle-recorder.js";
import type { Session } from "./session.js";

/** A TLS connection whose certificate expires within this is replaced at most every {@link TLS_RECHECK_MS}. */
export const TLS_RECHECK_WITHIN_MS = 30 * 86_400_000;
/** How old such a connection gets before the next cycle opens a new one. */
export const TLS_RECHECK_MS = 60 * 60_000;
/**
 * How old any other TLS connection gets: a server can be given a certificate that ends sooner
 * than the one this connection saw (a short-lived or wrongly issued one), and only a handshake shows it.
 */
export const TLS_RECHECK_FAR_MS = 24 * 60 * 60_000;

// When each session's current connection was first seen after its ping (by generation).
const opened = new WeakMap<Session, { generation: number; at: number }>();

/**
 * After a successful ping: the expiry of the certificate the server presented, when the
 * connection uses TLS. Read from the socket (the guard turns a throw into `undefined`).
 */
export function noteCertificateExpiry(session: Session, cycle: CycleRecorder): void {
  if (!session.connected) return;
  if (opened.get(session)?.generation !== session.generation) opened.set(session, { generation: session.generation, at: Date.now() });
  const at = session.adapter.certificateExpiry?.();
  if (at !== undefined) cycle.extras.certificateExpiresAt = at;
}

/**
 * Before a cycle: a certificate is read once per connection, and the probe keeps its connection,
 * so a certificate renewed on the server (and reloaded) would not show while the old one comes
 * closer to its end. A connection whose certificate expires within 30 days is therefore closed
 * once it is an hour old, any other TLS connection once it is a day old (a server given a
 * certificate that ends sooner than the one seen, which would otherwise never show), and the
 * cycle opens a new one (a handshake with the certificate the server presents now; an expired
 * one then fails where clients verify it, as theirs would).
 */
export async function recheckCertificate(session: Session): Promise<void> {
  const seen = opened.get(session);
  if (!session.connected || seen?.generation !== session.generation) return;
  const age = Date.now() - seen.at;
  if (age < TLS_RECHECK_MS) return;
  const at = session.adapter.certificateExpiry?.();
  if (at === undefined) return;
  if (age >= TLS_RECHECK_FAR_MS || at - Date.now() < TLS_RECHECK_WITHIN_MS) await session.disconnect().catch(() => session.drop());
}

/**
 * With the connections step: the server's limit on client connections, under the read deadline
 * like the count. Drivers answer it mostly without a round trip of its own (read with the count,
 * or once per connection and refreshed now and then). Not recorded as a phase: a failure leaves
 * `connectionsMax` out and changes nothing else (a deadline it missed replaces the connection, as
 * after any phase).
 */
export async function noteConnectionLimit(session: Session, cycle: CycleRecorder, config: TargetConfig): Promise<void> {
  const limit = session.adapter.connectionLimit?.bind(session.adapter);
  if (!limit || !session.connected) return;
  const answer = await cycle.timed("connections", config.readTimeout, limit, true);
  if (answer?.ok) cycle.extras.connectionsMax = answer.value;
}
