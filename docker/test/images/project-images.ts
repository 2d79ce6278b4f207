/**
 * The project's own images, built from its real Dockerfiles on the stand-ins (standins.ts)
 * through their base-image build arguments: docker/Dockerfile with all four drivers, then the
 * postgres and mariadb wraps on it. `--format docker` keeps HEALTHCHECK (OCI drops it).
 *
 * podman's layer cache makes an unchanged rebuild quick. The build stage is tagged so that its
 * layers stay cached for the next run while `image prune` removes the chains of older sources.
 */
import { fileURLToPath } from "node:url";
import { podman, podmanOk } from "./podman.js";
import type { StandIns } from "./standins.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const DRIVERS = "postgres mysql sqlite mssql";
const BUILD = { timeoutMs: 20 * 60_000 };

/** Tags of the images built from the project's Dockerfiles. */
export interface ProjectImages {
  healthcheck: string;
  postgres: string;
  mariadb: string;
  /** seconds each build took */
  seconds: Record<"healthcheck" | "postgres" | "mariadb", number>;
}

const timed = async (work: () => Promise<unknown>): Promise<number> => {
  const started = Date.now();
  await work();
  return Math.round((Date.now() - started) / 1000);
};

/**
 * Builds docker/Dockerfile (all drivers) and the postgres and mariadb wraps; `runId` keeps the
 * tags of concurrent runs apart.
 *
 * @example
 * ```ts
 * const images = await buildProjectImages(standIns, "1234");
 * await podmanOk(["run", "--rm", images.healthcheck, "--version"]);
 * ```
 */
export async function buildProjectImages(s: StandIns, runId: string): Promise<ProjectImages> {
  const tag = (name: string): string => `localhost/db-health-test/${name}:run-${runId}`;
  const images = { healthcheck: tag("healthcheck"), postgres: tag("postgres-healthcheck"), mariadb: tag("mariadb-healthcheck") };
  const common = ["build", "--format", "docker", "--pull=never"];
  const hcArgs = [
    ...common,
    // Debian's mirror (apt) and the npm registry (pnpm) are reached over the host's network.
    "--network", "host",
    "--build-arg", `NODE_VERSION=${s.nodeVersion}`,
    "--build-arg", "DEBIAN_RELEASE=bookworm",
    "--build-arg", `HEALTHCHECK_DRIVERS=${DRIVERS}`,
    "-f", "docker/Dockerfile",
  ];
  const seconds = {
    healthcheck: await timed(() => podmanOk([...hcArgs, "-t", images.healthcheck, "."], { ...BUILD, cwd: ROOT })),
    // The wraps copy node and /app from the healthcheck image: no network needed.
    postgres: await timed(() =>
      podmanOk([...common, "--network", "none", "--build-arg", `HEALTHCHECK_IMAGE=${images.healthcheck}`, "--build-arg", `POSTGRES_IMAGE=${s.postgres.tag}`, "-t", images.postgres, "docker/postgres"], { ...BUILD, cwd: ROOT }),
    ),
    mariadb: await timed(() =>
      podmanOk([...common, "--network", "none", "--build-arg", `HEALTHCHECK_IMAGE=${images.healthcheck}`, "--build-arg", `MARIADB_IMAGE=${s.mariadb.tag}`, "-t", images.mariadb, "docker/mariadb"], { ...BUILD, cwd: ROOT }),
    ),
  };
  // All cached by now: this only names the build stage's layers, keeping them for the next run.
  await podmanOk([...hcArgs, "--target", "build", "-t", "localhost/db-health-test/healthcheck-build-cache:latest", "."], { ...BUILD, cwd: ROOT });
  await podman(["image", "prune", "-f"], { timeoutMs: 5 * 60_000 });
  return { ...images, seconds };
}

/**
 * Removes this run's tags (the build stage's cache stays).
 *
 * @example
 * ```ts
 * afterAll(() => removeProjectImages(images));
 * ```
 */
export async function removeProjectImages(images: Partial<ProjectImages>): Promise<void> {
  for (const tag of [images.mariadb, images.postgres, images.healthcheck]) if (tag) await podman(["rmi", "-f", tag], { timeoutMs: 120_000 });
}

/** One layer of `podman history`. */
export interface Layer {
  createdBy: string;
  bytes: number;
}

/** An image's size, its base's, and the layers it adds over the base. */
export interface ImageSize {
  image: string;
  base: string;
  bytes: number;
  baseBytes: number;
  /** bytes of the layers above the base */
  added: number;
  layers: Layer[];
}

async function history(tag: string): Promise<Layer[]> {
  const rows = JSON.parse(await podmanOk(["history", "--format", "json", tag])) as Array<{ created_by?: string; CreatedBy?: string; size?: number; Size?: number }>;
  return rows.map((r) => ({ createdBy: (r.created_by ?? r.CreatedBy ?? "").replace(/\s+/g, " ").trim(), bytes: r.size ?? r.Size ?? 0 }));
}

/**
 * Size of `image` and what it adds over `base`: the history entries above the base's, newest
 * first (an image's history starts with its base's, so the first N - M entries are its own).
 *
 * @example
 * ```ts
 * const s = await imageSize(images.healthcheck, standIns.node.tag);
 * expect(s.added).toBeLessThanOrEqual(80 * 1000 ** 2);
 * ```
 */
export async function imageSize(image: string, base: string): Promise<ImageSize> {
  const size = async (t: string): Promise<number> => Number(await podmanOk(["image", "inspect", "--format", "{{.Size}}", t]));
  const [mine, theirs] = [await history(image), await history(base)];
  const layers = mine.slice(0, mine.length - theirs.length);
  return { image, base, bytes: await size(image), baseBytes: await size(base), added: layers.reduce((n, l) => n + l.bytes, 0), layers: layers.filter((l) => l.bytes > 0) };
}
