import { afterEach, describe, expect, it } from "vitest";
import pg from "pg";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { refusedPort, waitFor } from "@alfred/db-health-testkit";
import { sendCancel, type CancelTarget } from "./cancel.js";

// sendCancel() against the machine's PostgreSQL (127.0.0.1:5432 and /var/run/postgresql, trust).
const LOCAL = "postgres://postgres@127.0.0.1:5432/test";
type KeyedClient = pg.Client & { processID: number; secretKey: number };
const clients: pg.Client[] = [];
afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.end()));
});

/**
 * A connection running `SELECT pg_sleep(30)`, resolved once the server reports the statement
 * active. statement_timeout is a safety net only: its error says "statement timeout", which
 * the assertions below tell apart from a cancel ("user request").
 */
async function sleeping(): Promise<{ client: KeyedClient; outcome: Promise<unknown> }> {
  const client = new pg.Client({ connectionString: LOCAL, statement_timeout: 5000 }) as KeyedClient;
  clients.push(client);
  await client.connect();
  const outcome = client.query("SELECT pg_sleep(30)").then(
    () => "finished",
    (err: unknown) => err,
  );
  const admin = new pg.Client({ connectionString: LOCAL });
  await admin.connect();
  try {
    await waitFor(
      "pg_sleep to run",
      async () => (await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", [client.processID])).rows[0]!.n,
      (n) => n === 1,
      3000,
      20,
    );
  } finally {
    await admin.end();
  }
  return { client, outcome };
}

describe("sendCancel", () => {
  const targets: Array<[string, CancelTarget]> = [
    ["TCP", { host: "127.0.0.1", port: 5432 }],
    ["the unix socket", { host: "/var/run/postgresql", port: 5432 }],
  ];
  for (const [name, target] of targets) {
    it(`stops a running statement over ${name}: SQLSTATE 57014 within a second, connection still usable`, async () => {
      const { client, outcome } = await sleeping();
      const t0 = performance.now();
      await sendCancel(target, client.processID, client.secretKey);
      const err = (await outcome) as { code?: string; message?: string };
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(err.code).toBe("57014");
      expect(err.message).toBe("canceling statement due to user request");
      expect((await client.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    });
  }

  it("cancels nothing with a wrong secret key (the key in the packet is what the server checks)", async () => {
    const { client, outcome } = await sleeping();
    await sendCancel({ host: "127.0.0.1", port: 5432 }, client.processID, client.secretKey ^ 1);
    const early = await Promise.race([outcome, new Promise((res) => setTimeout(() => res("still running"), 500))]);
    expect(early).toBe("still running");
    await sendCancel({ host: "127.0.0.1", port: 5432 }, client.processID, client.secretKey);
    expect(((await outcome) as { message?: string }).message).toBe("canceling statement due to user request");
  });

  it("resolves within its bound on a server that never reads, and at once on a refused port", async () => {
    // Accepts and never reads: it never sees the packet nor the FIN, so it never closes (a
    // postmaster under SIGSTOP does the same). Only sendCancel's own timer can end the wait.
    const accepted: Socket[] = [];
    const frozen = createServer({ pauseOnConnect: true }, (s) => accepted.push(s));
    await new Promise<void>((res) => frozen.listen(0, "127.0.0.1", res));
    try {
      let t0 = performance.now();
      await sendCancel({ host: "127.0.0.1", port: (frozen.address() as AddressInfo).port }, 1, 2, 200);
      const elapsed = performance.now() - t0;
      expect(elapsed).toBeGreaterThanOrEqual(190);
      expect(elapsed).toBeLessThan(400);
      expect(accepted.length).toBe(1);
      t0 = performance.now();
      await sendCancel({ host: "127.0.0.1", port: await refusedPort() }, 1, 2, 5000);
      expect(performance.now() - t0).toBeLessThan(500);
    } finally {
      for (const s of accepted) s.destroy();
      await new Promise((res) => frozen.close(res));
    }
  });
});
