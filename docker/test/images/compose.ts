/**
 * docker/docker-compose.db.yml through Debian's docker-compose (1.29) against podman's Docker
 * API (`podman system service` on a socket of the run's own), with
 * docker/standins/docker-compose.standins.yml on top.
 *
 * The stack runs in a network namespace the test makes (`ip netns add`): every container joins
 * it (`network_mode: ns:…`) and they talk over its own loopback, so the compose file's ports
 * (5432, 3306, 9090, 9091) never meet the machine's servers, and no traffic leaves the namespace.
 * Compose v1 cannot drop the file's `ports:` in an override, and refuses `host` mode with them;
 * in `ns:` mode podman discards them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { podman } from "./podman.js";
import { run, runOk, type RunResult } from "./run.js";

const DOCKER_DIR = fileURLToPath(new URL("../../", import.meta.url));
const NETNS_PREFIX = "dbh-img-";

/** A podman API service started for the run. */
export interface PodmanService {
  socket: string;
  stop(): Promise<void>;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: "/_ping", timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/**
 * Starts `podman system service` on `<dir>/podman.sock` and waits (30 s at most) until it answers.
 *
 * @example
 * ```ts
 * const service = await startPodmanService(workdir);
 * try { await compose(["ps"], { DOCKER_HOST: `unix://${service.socket}` }); } finally { await service.stop(); }
 * ```
 */
export async function startPodmanService(dir: string): Promise<PodmanService> {
  const socket = join(dir, "podman.sock");
  const child: ChildProcess = spawn("podman", ["system", "service", "--time=0", `unix://${socket}`], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(killer);
  };
  const deadline = Date.now() + 30_000;
  while (!(existsSync(socket) && (await ping(socket)))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`podman system service did not answer on ${socket}: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { socket, stop };
}

/**
 * The namespace name of this process's compose stack.
 *
 * @example
 * ```ts
 * await createNetns(netnsName()); // /run/netns/dbh-img-<pid>
 * ```
 */
export const netnsName = (): string => `${NETNS_PREFIX}${process.pid}`;

const PROJECT_PREFIX = "dbhimg";
/**
 * The compose project of this process (names its containers, volumes and network).
 *
 * @example
 * ```ts
 * const web = `${projectName()}_prometheus_1`; // the prometheus service's container
 * ```
 */
export const projectName = (): string => `${PROJECT_PREFIX}${process.pid}`;

/**
 * Removes the compose projects of test processes that no longer exist (a killed run's).
 *
 * @example
 * ```ts
 * beforeAll(() => removeStaleProjects());
 * ```
 */
export async function removeStaleProjects(): Promise<void> {
  const listed = await podman(["ps", "-a", "--format", '{{index .Labels "com.docker.compose.project"}}'], { timeoutMs: 30_000 });
  const vols = await podman(["volume", "ls", "--format", '{{index .Labels "com.docker.compose.project"}}'], { timeoutMs: 30_000 });
  const projects = new Set(`${listed.stdout}\n${vols.stdout}`.split("\n").filter((p) => p.startsWith(PROJECT_PREFIX)));
  for (const p of projects) {
    const pid = Number(p.slice(PROJECT_PREFIX.length));
    if (pid > 0 && !isAlive(pid)) await removeProject(p);
  }
}

/**
 * Makes a network namespace with its loopback up; removes namespaces of dead test processes first.
 *
 * @example
 * ```ts
 * await createNetns("dbh-img-4242"); // containers join it with network_mode ns:/run/netns/dbh-img-4242
 * ```
 */
export async function createNetns(name: string): Promise<void> {
  const dir = "/run/netns";
  for (const ns of existsSync(dir) ? readdirSync(dir) : []) {
    const pid = Number(ns.slice(NETNS_PREFIX.length));
    if (ns.startsWith(NETNS_PREFIX) && pid > 0 && !isAlive(pid)) await run("ip", ["netns", "del", ns], { timeoutMs: 10_000 });
  }
  await runOk("ip", ["netns", "add", name], { timeoutMs: 10_000 });
  await runOk("ip", ["-n", name, "link", "set", "lo", "up"], { timeoutMs: 10_000 });
}

/**
 * Deletes the namespace (nothing may still run in it).
 *
 * @example
 * ```ts
 * afterAll(() => deleteNetns("dbh-img-4242"));
 * ```
 */
export async function deleteNetns(name: string): Promise<void> {
  await run("ip", ["netns", "del", name], { timeoutMs: 10_000 });
}

/** What the override file reads from the environment. */
export interface ComposeImages {
  postgres: string;
  mariadb: string;
  healthcheck: string;
  prometheus: string;
}

/**
 * Runs docker-compose on the compose file and the stand-ins' override, for `project`.
 *
 * @example
 * ```ts
 * await compose(["up", "-d", "postgres"], { socket, netns, project: "dbhimg1", images });
 * ```
 */
export function compose(args: string[], o: { socket: string; netns: string; project: string; images: ComposeImages; timeoutMs?: number }): Promise<RunResult> {
  const files = ["-f", "docker-compose.db.yml", "-f", "standins/docker-compose.standins.yml", "-p", o.project];
  return run("docker-compose", [...files, ...args], {
    cwd: DOCKER_DIR,
    timeoutMs: o.timeoutMs ?? 300_000,
    env: {
      ...process.env,
      DOCKER_HOST: `unix://${o.socket}`,
      COMPOSE_HTTP_TIMEOUT: "240",
      DBH_NETNS: `/run/netns/${o.netns}`,
      DBH_POSTGRES_IMAGE: o.images.postgres,
      DBH_MARIADB_IMAGE: o.images.mariadb,
      DBH_HEALTHCHECK_IMAGE: o.images.healthcheck,
      DBH_PROMETHEUS_IMAGE: o.images.prometheus,
    },
  });
}

/**
 * Removes whatever of `project` compose did not (containers, volumes, network), by compose's labels.
 *
 * @example
 * ```ts
 * afterAll(() => removeProject("dbhimg4242"));
 * ```
 */
export async function removeProject(project: string): Promise<void> {
  const ids = (await podman(["ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`], { timeoutMs: 30_000 })).stdout.split("\n").filter(Boolean);
  if (ids.length) await podman(["rm", "-f", "-v", "-t", "5", ...ids], { timeoutMs: 120_000 });
  const vols = (await podman(["volume", "ls", "-q", "--filter", `label=com.docker.compose.project=${project}`], { timeoutMs: 30_000 })).stdout.split("\n").filter(Boolean);
  if (vols.length) await podman(["volume", "rm", "-f", ...vols], { timeoutMs: 60_000 });
  await podman(["network", "rm", "-f", `${project}_default`], { timeoutMs: 30_000 });
}
