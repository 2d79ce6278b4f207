/** What dsn() builds: user, password and database default to the engine's superuser and test database. */
export interface DsnOptions {
  user?: string;
  password?: string;
  database?: string;
  /** query parameters; those whose value is undefined are left out (convenient for tables of cases) */
  params?: Record<string, string | undefined>;
}

/**
 * A throwaway database server on 127.0.0.1, whatever its engine. `StopMode` names the engine's
 * two ways to stop: an orderly shutdown (the default) and a crash-like one.
 */
export interface TestServer<StopMode extends string = string> {
  /** its TCP port on 127.0.0.1, kept across stop() and start() */
  readonly port: number;
  /** its data directory (under the server's temp dir, removed by destroy()) */
  readonly dataDir: string;
  /** the CA that signed the server certificate (when started with `ssl`) */
  readonly caFile?: string;
  /** the server certificate (PEM) the server presents (when started with `ssl`), e.g. to read its notAfter */
  readonly certFile?: string;
  /** `<scheme>://user[:password]@127.0.0.1:port/db?params`, values percent-encoded */
  dsn(opts?: DsnOptions): string;
  /** runs SQL as the superuser over the unix socket (rows in the engine's shape) */
  query(sql: string): Promise<unknown[]>;
  /** starts it and waits (bounded, 30 s) until it answers a query; no-op when running */
  start(): Promise<void>;
  /** stops it and waits (bounded, 30 s, then SIGKILL and an error); no-op when stopped */
  stop(mode?: StopMode): Promise<void>;
  /** SIGSTOP the server and its children: a hung server whose kernel still completes TCP handshakes */
  pause(): void;
  /** SIGCONT them */
  resume(): void;
  /** a replica of this running server on a free port of its own, started and replicating; destroy() it too */
  createReplica(): Promise<TestServer<StopMode>>;
  /** crash-like stop when running, then rm -rf of everything it wrote; idempotent */
  destroy(): Promise<void>;
}

/**
 * Server TLS made with `openssl` for a throwaway server: `true`, or the validity of the server
 * certificate, so that its notAfter is a known date.
 *
 * @example
 * ```ts
 * const pg = await startCluster({ ssl: { days: 10 } });
 * new X509Certificate(readFileSync(pg.certFile!)).validTo; // 10 days from now
 * ```
 */
export interface TlsOptions {
  /** days from now until the server certificate expires (whole, ≥ 1) @default 3 */
  days?: number;
}
