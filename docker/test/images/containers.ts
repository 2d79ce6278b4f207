/**
 * Containers the image tests start: labelled with the run and the test process, so that this
 * run removes exactly its own at the end (also after a failure), and a later run removes what a
 * killed run left behind (its process is gone) without touching a concurrent run's.
 */
import { podman, podmanOk } from "./podman.js";

const LABEL = "db-health-images-test";

/**
 * `podman run`/`create` arguments that label a container as this run's.
 *
 * @example
 * ```ts
 * await podmanOk(["run", "-d", ...runLabels("4242"), "--name", "x", image]);
 * ```
 */
export const runLabels = (runId: string): string[] => ["--label", `${LABEL}=${runId}`, "--label", `${LABEL}.pid=${process.pid}`];

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

async function removeWhere(keep: (labels: Record<string, string>) => boolean): Promise<void> {
  const listed = await podmanOk(["ps", "-a", "--filter", `label=${LABEL}`, "--format", "{{.ID}} {{json .Labels}}"], { timeoutMs: 30_000 });
  const ids = listed
    .split("\n")
    .filter(Boolean)
    .map((line) => [line.slice(0, line.indexOf(" ")), JSON.parse(line.slice(line.indexOf(" ") + 1)) as Record<string, string>] as const)
    .filter(([, labels]) => !keep(labels))
    .map(([id]) => id);
  // -v: the anonymous volumes of the databases' VOLUME go with them.
  if (ids.length) await podman(["rm", "-f", "-v", "-t", "5", ...ids], { timeoutMs: 120_000 });
}

/**
 * Removes this run's containers and their anonymous volumes.
 *
 * @example
 * ```ts
 * afterAll(() => removeRunContainers(runId));
 * ```
 */
export const removeRunContainers = (runId: string): Promise<void> => removeWhere((l) => l[LABEL] !== runId);

/**
 * Removes containers of earlier runs whose test process no longer exists.
 *
 * @example
 * ```ts
 * beforeAll(() => removeStaleContainers());
 * ```
 */
export const removeStaleContainers = (): Promise<void> => removeWhere((l) => isAlive(Number(l[`${LABEL}.pid`])));

/**
 * Everything the container wrote to stdout and stderr, interleaved as podman stored it.
 *
 * @example
 * ```ts
 * expect(await logs("dbh-daemon")).toContain('"msg":"stopped"');
 * ```
 */
export async function logs(container: string): Promise<string> {
  const r = await podman(["logs", container], { timeoutMs: 30_000 });
  return `${r.stdout}${r.stderr}`;
}

/**
 * Waits (bounded) until the container has exited, and returns its exit code.
 *
 * @example
 * ```ts
 * expect(await exitCode("dbh-pg", 60_000)).toBe(137);
 * ```
 */
export async function exitCode(container: string, timeoutMs: number): Promise<number> {
  const r = await podman(["wait", container], { timeoutMs });
  if (r.code !== 0) throw new Error(`${container} did not exit within ${timeoutMs / 1000} s: ${r.stderr.trim()}`);
  return Number(r.stdout.trim());
}

/**
 * Whether the container still runs.
 *
 * @example
 * ```ts
 * if (!(await running("dbh-pg"))) throw new Error(await logs("dbh-pg"));
 * ```
 */
export async function running(container: string): Promise<boolean> {
  return (await podmanOk(["inspect", "--format", "{{.State.Running}}", container], { timeoutMs: 30_000 })) === "true";
}

/**
 * The body of http://127.0.0.1:<port><path> as seen inside the container (its own network
 * namespace), fetched by the container's Node.js.
 *
 * @example
 * ```ts
 * const metrics = await fetchInside("dbh-pg", 9091, "/metrics");
 * ```
 */
export async function fetchInside(container: string, port: number, path: string): Promise<string> {
  const script = `fetch("http://127.0.0.1:${port}${path}").then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(String(e.cause ?? e)); process.exit(1); })`;
  return podmanOk(["exec", container, "node", "-e", script], { timeoutMs: 30_000 });
}
