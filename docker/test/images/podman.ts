/**
 * Podman as this machine needs it (measured, see issue 16): runc, not crun (crun fails on the
 * hybrid cgroups here); default ulimits within the host's hard limits; both set in a
 * containers.conf of our own that CONTAINERS_CONF points at, so nothing global is changed.
 * There is no systemd: HEALTHCHECK intervals never run by themselves (see health.ts).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, runOk, type RunOptions, type RunResult } from "./run.js";

/** The tools the image tests run, with the Debian package each comes from (.ci/run installs them). */
export const TOOLS = [
  ["podman", "podman"],
  ["runc", "runc"],
  ["mmdebstrap", "mmdebstrap"],
  ["docker-compose", "docker-compose"],
  ["ip", "iproute2"],
] as const;

const CONTAINERS_CONF = `# Written by docker/test/images/podman.ts for the image tests (CONTAINERS_CONF).
[containers]
# podman's defaults (1048576 open files) exceed this machine's hard limits
default_ulimits = ["nofile=20000:20000", "nproc=20000:20000"]

[engine]
# crun fails on this host's hybrid cgroups
runtime = "runc"
`;

/**
 * Writes the containers.conf into `dir`, points CONTAINERS_CONF at it for this process and its
 * children, and checks that podman answers. Returns why it cannot be used, or undefined.
 *
 * @example
 * ```ts
 * const reason = preparePodman(mkdtempSync(join(tmpdir(), "dbh-")));
 * if (reason) console.log(`images: skipped: ${reason}`);
 * ```
 */
export function preparePodman(dir: string): string | undefined {
  if (process.platform !== "linux") return "podman runs Linux containers: this is not Linux";
  if (process.getuid?.() !== 0) return "the image tests run rootful podman: run them as root";
  const missing = TOOLS.filter(([tool]) => spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).status !== 0);
  if (missing.length) {
    return `missing ${missing.map(([t]) => t).join(", ")}: apt-get install ${[...new Set(missing.map(([, p]) => p))].join(" ")} (.ci/run does)`;
  }
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, "containers.conf");
  writeFileSync(conf, CONTAINERS_CONF);
  process.env.CONTAINERS_CONF = conf;
  const info = spawnSync("podman", ["info", "--format", "{{.Host.OCIRuntime.Name}}"], { encoding: "utf8", timeout: 60_000 });
  if (info.status !== 0) return `podman info failed: ${(info.stderr || info.error?.message || "").trim().split("\n").slice(-3).join(" ")}`;
  if (info.stdout.trim() !== "runc") return `podman runs ${info.stdout.trim()}, not runc: CONTAINERS_CONF was not read`;
  return undefined;
}

/**
 * Runs podman with a deadline (default 2 minutes).
 *
 * @example
 * ```ts
 * const r = await podman(["image", "exists", "localhost/db-health-standin/debian:bookworm-0123"]);
 * ```
 */
export function podman(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run("podman", args, { timeoutMs: 120_000, ...options });
}

/**
 * Runs podman and resolves with its trimmed stdout; rejects with the command and its output
 * unless it exits 0.
 *
 * @example
 * ```ts
 * const size = Number(await podmanOk(["image", "inspect", "--format", "{{.Size}}", tag]));
 * ```
 */
export async function podmanOk(args: readonly string[], options: RunOptions = {}): Promise<string> {
  return (await runOk("podman", args, { timeoutMs: 120_000, ...options })).trim();
}

/**
 * Does the image exist in local storage?
 *
 * @example
 * ```ts
 * if (!(await imageExists(tag))) await podmanOk(["build", "-t", tag, dir]);
 * ```
 */
export async function imageExists(tag: string): Promise<boolean> {
  return (await podman(["image", "exists", tag], { timeoutMs: 30_000 })).code === 0;
}
