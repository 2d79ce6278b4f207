/**
 * The server's connection limit and the TLS certificate's expiry (`db_connections_max`,
 * `db_tls_certificate_expiry_timestamp_seconds`): informative figures of a cycle, never a reason
 * to degrade. Each records into the cycle's `extras`, which its outcome carries.
 */
import type { TargetConfig } from "../config/config.js";
import type { CycleRecorder } from "./cycle-recorder.js";
import type { Session } from "./session.js";

/**
 * After a successful ping: the expiry of the certificate the server presented, when the
 * connection uses TLS. Read from the socket (the guard turns a throw into `undefined`).
 */
export function noteCertificateExpiry(session: Session, cycle: CycleRecorder): void {
  const at = session.connected ? session.adapter.certificateExpiry?.() : undefined;
  if (at !== undefined) cycle.extras.certificateExpiresAt = at;
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
