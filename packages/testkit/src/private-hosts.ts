/**
 * Name resolution under a test's control, for real: a command run in a mount namespace of its
 * own (`unshare -m`) where /etc/hosts is a file of the test's (`mount --bind`), so `getaddrinfo`
 * (what database clients use) answers what the test wrote, and answers anew when the test
 * rewrites the file in place. Needs root (CAP_SYS_ADMIN), as CI has; nothing outside the
 * namespace sees the file.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";

/** What {@link privateHosts} returns. */
export interface PrivateHosts {
  /** Why a private /etc/hosts cannot be had here, or `undefined` when it can (skip with this reason). */
  readonly unavailable: string | undefined;
  /** Writes the file in place (the same inode: the bind mount shows the file, not the path). */
  write(entries: Record<string, string>): void;
  /** `[file, args]` for `spawn`: `argv` run with the private /etc/hosts. */
  command(argv: readonly string[]): [string, string[]];
}

/**
 * A hosts file at `file` (`localhost` always included) and the way to run a command that sees it
 * as /etc/hosts. Rewrite it while the command runs to move a name to another address.
 *
 * @example
 * ```ts
 * const hosts = privateHosts(join(dir, "hosts"), { "db.test": "127.0.0.2" });
 * it.skipIf(hosts.unavailable)("follows the name", async () => {
 *   const [file, args] = hosts.command([process.execPath, CLI, "--config", config]);
 *   const daemon = spawn(file, args);
 *   hosts.write({ "db.test": "127.0.0.3" }); // a failover
 * });
 * ```
 */
export function privateHosts(file: string, entries: Record<string, string>): PrivateHosts {
  const write = (e: Record<string, string>): void =>
    writeFileSync(file, `127.0.0.1 localhost\n${Object.entries(e).map(([name, address]) => `${address} ${name}`).join("\n")}\n`);
  write(entries);
  const command = (argv: readonly string[]): [string, string[]] => ["unshare", ["-m", "--", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', file, ...argv]];
  const [name, address] = Object.entries(entries)[0] ?? ["localhost", "127.0.0.1"];
  const [bin, args] = command(["getent", "hosts", name]);
  const probe = spawnSync(bin, args, { encoding: "utf8", timeout: 10_000 });
  const unavailable =
    probe.status === 0 && probe.stdout.startsWith(address) ? undefined : `a private /etc/hosts needs unshare -m and mount --bind (root): ${(probe.stderr || probe.error?.message || `getent printed ${JSON.stringify(probe.stdout)}`).trim()}`;
  return { unavailable, write, command };
}
