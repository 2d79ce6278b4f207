/**
 * Last-resort handling of errors that no probe caught — a driver's promise rejected with nobody
 * listening, a throw from one of its timers — so that even then the CLI prints one redacted line
 * and never a stack trace or a password.
 *
 * - An unhandled rejection is reported and the process goes on: nothing was left half-done, and
 *   a daemon must not die because one target's driver misbehaves.
 * - An uncaught exception is reported and the process exits 1: after one, Node's state is unknown.
 *   In wrapper mode the child is first stopped with SIGTERM (waiting up to 10 s), see onFatal.
 *
 * Messages are redacted with the core rules plus every literal secret remembered so far (the
 * passwords of the configured DSNs and of password-like environment variables).
 */
import { dsnSecrets, errorMessage } from "@alfred/db-health-core";

type Reporter = (event: "unhandled rejection" | "uncaught exception" | "warning", message: string) => void;

const secrets = new Set<string>();
const PREFIX = { "uncaught exception": "internal error, exiting (a driver bug?)", "unhandled rejection": "ignored an unhandled rejection (a driver bug?)", warning: "warning" } as const;
let report: Reporter = (event, message) => {
  process.stderr.write(`healthcheck: ${PREFIX[event]}: ${message}\n`);
};

/**
 * Adds the passwords of these DSNs, of password-like variables in env, and literal `known`
 * secrets (the plan's, already taken out of each DSN, and modules' passwords) to what crash
 * reports redact.
 *
 * @example
 * ```ts
 * rememberSecrets([], process.env, plan.targets.flatMap((t) => t.secrets));
 * ```
 */
export function rememberSecrets(dsns: readonly string[], env: NodeJS.ProcessEnv = {}, known: readonly string[] = []): void {
  for (const dsn of dsns) for (const s of dsnSecrets(dsn)) secrets.add(s);
  for (const p of known) if (p) secrets.add(p);
  for (const [name, value] of Object.entries(env)) {
    // MYSQL_PWD, PGPASSWORD, DB_SECRET… but not the shell's PWD/OLDPWD (the working directory).
    if (value && /(^|_)(PASSWORD|PASSWD|PWD|SECRET|TOKEN)$|^PGPASSWORD$/i.test(name) && !/^(OLD)?PWD$/i.test(name)) secrets.add(value);
  }
}

const beforeExit: Array<() => Promise<unknown>> = [];
/** How long an uncaught exception waits for the {@link onFatal} hooks before exiting anyway. */
const FATAL_GRACE_MS = 10_000;

/**
 * Runs `hook` (bounded) before the process exits after an uncaught exception; wrapper mode uses
 * it to stop the wrapped database cleanly instead of leaving it orphaned (or, as PID 1 of a
 * container, killed hard).
 */
export function onFatal(hook: () => Promise<unknown>): void {
  beforeExit.push(hook);
}

/** routes crash reports elsewhere (the daemon's JSON logger); messages arrive already redacted */
export function setCrashReporter(reporter: Reporter): void {
  report = reporter;
}

/** a redacted one-line message for anything thrown, Error or not */
export function crashMessage(err: unknown): string {
  return errorMessage(err, [...secrets]);
}

/**
 * Installs the process-wide handlers; call once, first thing.
 *
 * @example
 * ```ts
 * installCrashHandlers();
 * rememberSecrets(configs.map((c) => c.dsn), process.env);
 * ```
 */
export function installCrashHandlers(): void {
  // Node's warnings (and those libraries emit, e.g. yaml's, which quote the text they parse)
  // would reach stderr unredacted and, in the daemon, outside its JSON log: each is reported
  // here instead, redacted, as one line.
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]): void => {
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const name = typeof warning === "string" ? (type ?? "Warning") : warning.name;
    report("warning", `${name}: ${crashMessage(typeof warning === "string" ? warning : warning.message)}`);
  }) as typeof process.emitWarning;
  // A reader that goes away (`healthcheck --help | head -1`) or a full disk is not a crash: what is
  // left to write is dropped and the process ends as it would have.
  // Each stream gets its handler when it is first used: Node creates process.stdout/stderr on
  // first access (~1 ms each at start), and `status` or `--version` that succeed never touch stderr.
  for (const name of ["stdout", "stderr"] as const) whenCreated(name, (stream) => stream.on("error", ignoreOutputError));
  process.on("unhandledRejection", (reason) => {
    report("unhandled rejection", crashMessage(reason));
  });
  process.on("uncaughtException", (err) => {
    try {
      report("uncaught exception", crashMessage(err));
    } catch {
      // reporting must not keep the process from ending
    }
    if (beforeExit.length === 0) process.exit(1);
    const grace = new Promise((resolve) => setTimeout(resolve, FATAL_GRACE_MS).unref());
    void Promise.race([Promise.allSettled(beforeExit.map((hook) => hook())), grace]).finally(() => process.exit(1));
  });
}

/**
 * Runs `setUp` on process[name] once, when it is first read (Node's own getter creates the
 * stream then); at once when the property is not a getter Node lets us wrap.
 */
function whenCreated(name: "stdout" | "stderr", setUp: (stream: NodeJS.WriteStream) => void): void {
  const own = Object.getOwnPropertyDescriptor(process, name);
  if (!own?.get || !own.configurable) return setUp(process[name]);
  const create = own.get;
  let ready = false;
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: own.enumerable ?? true,
    get(): NodeJS.WriteStream {
      const stream = create.call(process) as NodeJS.WriteStream;
      if (!ready) {
        ready = true;
        setUp(stream);
      }
      return stream;
    },
  });
}

/**
 * A write that failed: the reader closed its end (EPIPE), a full disk, an I/O error. The output is
 * lost, the process goes on (run-cli.ts's writers keep the reason for the exit code).
 */
function ignoreOutputError(): void {}
