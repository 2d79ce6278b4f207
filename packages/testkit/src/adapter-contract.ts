import { randomUUID } from "node:crypto";
import {
  createRedactor,
  dsnSecrets,
  errorMessage,
  guardAdapter,
  healthToken,
  parseDsn,
  resolveTargetConfig,
  TOKEN_HISTORY_LENGTH,
  type DriverAdapter,
  type DriverDefinition,
  type TargetConfig,
  type TargetOptions,
} from "@alfred/db-health-core";

/**
 * Calls a driver's adapter directly, without core's deadlines and retries around it, and
 * checks the {@link DriverAdapter} contract step by step: the method set and answer shapes
 * (core's `guardAdapter`), `close()` before `connect()`, `read()` of a prober without a row
 * giving `undefined`, `write()` being an upsert that `read()` returns, `connections()` being a
 * count, `close()` twice, and no `connectionLost()` report for the adapter's own `close()`. Throws an `Error` naming the driver and the first rule broken.
 * `runConformanceSuite` runs it; call it yourself to debug an adapter outside vitest.
 *
 * @example
 * ```ts
 * await checkAdapterContract(myDriver, "mydb://127.0.0.1/test");
 * // Error: mydb: read() after write("…") returned "stale": it must return the token this prober wrote last (an upsert)
 * ```
 */
export async function checkAdapterContract(definition: DriverDefinition, dsn: string, config: Partial<TargetOptions> = {}): Promise<void> {
  const who = definition.packageName ? `${definition.name} (${definition.packageName})` : definition.name;
  const fail = (text: string): Error => new Error(`${who}: ${text}`);
  const target = resolveTargetConfig({ dsn, probeId: `contract-${process.pid}-${randomUUID()}`, ...config } as TargetOptions);
  // Nothing here loses a connection: any report is about the adapter's own close().
  const lost: string[] = [];
  const connectionLost = (reason: string): void => void lost.push(reason);
  const createAdapter = (): DriverAdapter =>
    guardAdapter(definition.createAdapter({ config: target, dsn: parseDsn(target.dsn), redact: createRedactor(dsnSecrets(target.dsn)), connectionLost }), definition);
  const adapter = createAdapter();
  const step = async <T>(what: string, ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    try {
      return await fn(AbortSignal.timeout(ms));
    } catch (err) {
      // guardAdapter's messages already name the driver
      const text = errorMessage(err);
      throw fail(`${what} failed: ${text.startsWith(`${who}: `) ? text.slice(who.length + 2) : text}`);
    }
  };
  const read = (what: string): Promise<string | undefined> => step(what, target.readTimeout, (s) => adapter.read(s));

  await step("close() before connect() (it must be safe when not connected)", target.connectTimeout, () => adapter.close());
  try {
    await step("connect()", target.connectTimeout, (s) => adapter.connect(s));
    if (adapter.connected?.() === false) throw fail("connected() is false right after connect()");
    await step("ping()", target.readTimeout, (s) => adapter.ping(s));
    await step("role()", target.readTimeout, (s) => adapter.role(s));
    const before = await read("read() for a prober that never wrote");
    if (before !== undefined) throw fail(`read() returned ${JSON.stringify(before)} for a prober that never wrote: return undefined when there is no row`);
    for (const token of [healthToken(), healthToken()]) {
      await step(`write("${token}")`, target.writeTimeout, (s) => adapter.write(token, s));
      const got = await read(`read() after write("${token}")`);
      if (got?.split(" ")[0] !== token) {
        throw fail(`read() after write("${token}") returned ${JSON.stringify(got)}: it must return the stored tokens with the one this prober wrote last first (an upsert)`);
      }
    }
    await checkSharedProbeId(adapter, createAdapter(), step, target, fail);
    if (adapter.connections) await step("connections()", target.readTimeout, (s) => adapter.connections!(s));
  } finally {
    await adapter.close().catch(() => undefined);
  }
  await step("close() a second time (it must be safe when not connected)", target.connectTimeout, () => adapter.close());
  if (adapter.connected?.() === true) throw fail("connected() is still true after close()");
  // Client libraries announce a closed socket a tick or two later.
  await new Promise((resolve) => setTimeout(resolve, 50));
  if (lost.length > 0) {
    throw fail(`close() was reported as a lost connection (connectionLost(${JSON.stringify(lost[0])})): report only a loss of the connection you hold, not one you close yourself`);
  }
}

type Step = <T>(what: string, ms: number, fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;

/**
 * Two probers with one probe id (a daemon and a `--once` on one host share the default): a
 * write by the other between this prober's write and its read must leave this prober's token in
 * the row, or the read-back reports a false failure. The row keeps the latest tokens, newest
 * first, within TOKEN_HISTORY_LENGTH characters.
 */
async function checkSharedProbeId(adapter: DriverAdapter, other: DriverAdapter, step: Step, target: TargetConfig, fail: (text: string) => Error): Promise<void> {
  try {
    await step("connect() of a second adapter with the same probe id", target.connectTimeout, (s) => other.connect(s));
    const mine = healthToken();
    await step(`write("${mine}")`, target.writeTimeout, (s) => adapter.write(mine, s));
    const theirs = [healthToken(), healthToken()];
    for (const token of theirs) await step(`write("${token}") by the second adapter`, target.writeTimeout, (s) => other.write(token, s));
    const got = await step("read() after another prober with the same probe id wrote", target.readTimeout, (s) => adapter.read(s));
    const expected = [theirs[1], theirs[0], mine].join(" ");
    if (!got?.startsWith(expected)) {
      throw fail(
        `read() after two writes by another prober with the same probe id returned ${JSON.stringify(got)}, expected it to start with ${JSON.stringify(expected)}: ` +
          `keep the latest tokens, newest first (token = left(new || ' ' || old, ${TOKEN_HISTORY_LENGTH})), so that probers sharing an id do not report each other's writes as failures`,
      );
    }
    if (got.length > TOKEN_HISTORY_LENGTH) throw fail(`read() returned ${got.length} characters: keep at most ${TOKEN_HISTORY_LENGTH} (the token column's width)`);
  } finally {
    await other.close().catch(() => undefined);
  }
}
