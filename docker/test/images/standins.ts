/**
 * The stand-in base images (docker/standins/): no registry is reachable here, so the images the
 * project's Dockerfiles start FROM are built locally. A Debian bookworm root file system made
 * with mmdebstrap from Debian's mirror and `podman import`ed; on it, Node.js copied from this
 * machine, and PostgreSQL 15, MariaDB and Prometheus from Debian's packages.
 *
 * Each is tagged with a hash of its inputs (recipe, files, base, Node.js version), so a run
 * reuses what an earlier run built and rebuilds only what changed; older tags are removed.
 */
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { imageExists, podman, podmanOk } from "./podman.js";
import { runOk } from "./run.js";

const STANDINS = fileURLToPath(new URL("../../standins/", import.meta.url));
const REPO = "localhost/db-health-standin";
const MIRROR = "http://deb.debian.org/debian";
const SECURITY = "http://deb.debian.org/debian-security";
/** Like the official slim images: no manuals, translations or docs (copyright files kept). */
const MMDEBSTRAP_ARGS = [
  "--variant=minbase",
  "--mode=root",
  // merged /usr as bookworm has it, without pulling usrmerge (and perl with it) into the image
  "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
  "--skip=output/dev",
  "--dpkgopt=path-exclude=/usr/share/man/*",
  "--dpkgopt=path-exclude=/usr/share/locale/*",
  "--dpkgopt=path-include=/usr/share/locale/locale.alias",
  "--dpkgopt=path-exclude=/usr/share/doc/*",
  "--dpkgopt=path-include=/usr/share/doc/*/copyright",
  "--dpkgopt=path-exclude=/usr/share/info/*",
  "bookworm",
];
const SOURCES = [`deb ${MIRROR} bookworm main`, `deb ${MIRROR} bookworm-updates main`, `deb ${SECURITY} bookworm-security main`];

/** A stand-in image: its tag and whether this run built it. */
export interface StandIn {
  tag: string;
  /** false when an earlier run's image with the same inputs was reused */
  built: boolean;
  seconds: number;
}

/** The stand-ins the tests need, by the image they stand in for. */
export interface StandIns {
  debian: StandIn;
  node: StandIn;
  postgres: StandIn;
  mariadb: StandIn;
  prometheus: StandIn;
  /** `node:<version>-bookworm-slim`: the name docker/Dockerfile's FROM resolves to the node stand-in */
  nodeName: string;
  nodeVersion: string;
}

const hash = (...parts: Array<string | Buffer>): string => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex").slice(0, 12);
};

/** Every file of a stand-in's directory, names and contents, in a stable order. */
function dirInputs(dir: string): Array<string | Buffer> {
  return readdirSync(dir).sort().flatMap((f) => [f, readFileSync(join(dir, f))]);
}

async function ensure(tag: string, build: () => Promise<void>): Promise<StandIn> {
  const started = Date.now();
  if (await imageExists(tag)) return { tag, built: false, seconds: 0 };
  await build();
  return { tag, built: true, seconds: Math.round((Date.now() - started) / 1000) };
}

/** `podman build` of a stand-in: Debian's mirror over the host network, docker format. */
async function buildStandIn(tag: string, context: string, baseTag: string, extraArgs: string[] = []): Promise<void> {
  await podmanOk(["build", "--format", "docker", "--pull=never", "--network", "host", "--build-arg", `BASE=${baseTag}`, ...extraArgs, "-t", tag, context], {
    timeoutMs: 15 * 60_000,
  });
}

async function debianRootfs(workdir: string): Promise<StandIn> {
  const tag = `${REPO}/debian:bookworm-${hash(...MMDEBSTRAP_ARGS, ...SOURCES)}`;
  return ensure(tag, async () => {
    const tar = join(workdir, "debian-rootfs.tar");
    await runOk("mmdebstrap", [...MMDEBSTRAP_ARGS, tar, ...SOURCES], { timeoutMs: 10 * 60_000 });
    await podmanOk(["import", "--change", 'CMD ["bash"]', "--change", 'LABEL org.opencontainers.image.description="TEST STAND-IN for debian:bookworm-slim"', tar, tag], {
      timeoutMs: 5 * 60_000,
    });
    rmSync(tar, { force: true });
  });
}

/**
 * The CA bundle this machine's Node.js trusts beyond its own (NODE_EXTRA_CA_CERTS; turbo may not
 * pass that variable on, so Debian's bundle, which holds the same, is the fallback). Empty when
 * there is none.
 */
function extraCa(): Buffer {
  for (const file of [process.env.NODE_EXTRA_CA_CERTS, "/etc/ssl/certs/ca-certificates.crt"]) {
    if (file && existsSync(file)) return readFileSync(file);
  }
  return Buffer.alloc(0);
}

/** This machine's npm directory and Node.js headers, where the system's nodejs package puts them. */
function hostNode(): { npmDir: string; includeDir: string; npmVersion: string } {
  const npmCli = realpathSync(join(dirname(process.execPath), "npm"));
  const npmDir = dirname(dirname(npmCli));
  const includeDir = join(dirname(dirname(process.execPath)), "include", "node");
  const header = readFileSync(join(includeDir, "node_version.h"), "utf8");
  const version = ["MAJOR", "MINOR", "PATCH"].map((p) => new RegExp(`#define NODE_${p}_VERSION (\\d+)`).exec(header)?.[1]).join(".");
  if (`v${version}` !== process.version) throw new Error(`${includeDir} holds the headers of Node.js ${version}, not ${process.version}`);
  const npmVersion = (JSON.parse(readFileSync(join(npmDir, "package.json"), "utf8")) as { version: string }).version;
  return { npmDir, includeDir, npmVersion };
}

async function nodeStandIn(workdir: string, debian: string, nodeVersion: string): Promise<StandIn> {
  const dir = join(STANDINS, "node");
  const host = hostNode();
  const ca = extraCa();
  const tag = `${REPO}/node:${nodeVersion}-bookworm-slim-${hash(debian, process.version, host.npmVersion, ca, ...dirInputs(dir))}`;
  return ensure(tag, async () => {
    // The context: the Containerfile and this machine's node, npm and headers.
    const context = join(workdir, "node-context");
    mkdirSync(join(context, "include"), { recursive: true });
    cpSync(join(dir, "Containerfile"), join(context, "Containerfile"));
    cpSync(process.execPath, join(context, "node"));
    cpSync(host.npmDir, join(context, "npm"), { recursive: true, verbatimSymlinks: true });
    cpSync(host.includeDir, join(context, "include", "node"), { recursive: true });
    writeFileSync(join(context, "extra-ca.crt"), ca);
    const caArg = ca.length ? ["--build-arg", "EXTRA_CA_CERTS=/usr/local/share/db-health-standin/extra-ca.crt"] : [];
    try {
      await buildStandIn(tag, context, debian, ["--build-arg", `NODE_VERSION=${nodeVersion}`, ...caArg]);
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  });
}

/**
 * Builds (or reuses) every stand-in, tags the node one with the name docker/Dockerfile uses,
 * and removes stand-ins of earlier inputs.
 *
 * @example
 * ```ts
 * const s = await buildStandIns(workdir);
 * await podmanOk(["build", "--build-arg", `POSTGRES_IMAGE=${s.postgres.tag}`, "docker/postgres"]);
 * ```
 */
export async function buildStandIns(workdir: string): Promise<StandIns> {
  const nodeVersion = process.version.slice(1);
  const debian = await debianRootfs(workdir);
  const node = await nodeStandIn(workdir, debian.tag, nodeVersion);
  const db = (name: "postgres" | "mariadb" | "prometheus", version: string): Promise<StandIn> => {
    const dir = join(STANDINS, name);
    const tag = `${REPO}/${name}:${version}-${hash(debian.tag, ...dirInputs(dir))}`;
    return ensure(tag, () => buildStandIn(tag, dir, debian.tag));
  };
  const postgres = await db("postgres", "15");
  const mariadb = await db("mariadb", "10.11");
  const prometheus = await db("prometheus", "2");
  const nodeName = `node:${nodeVersion}-bookworm-slim`;
  await podmanOk(["tag", node.tag, nodeName]);
  await removeStale([debian, node, postgres, mariadb, prometheus].map((s) => s.tag));
  return { debian, node, postgres, mariadb, prometheus, nodeName, nodeVersion };
}

/** Stand-in tags of inputs that no longer exist; an image still in use stays (rmi fails, ignored). */
async function removeStale(current: string[]): Promise<void> {
  const listed = await podmanOk(["images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", `reference=${REPO}/*`]);
  // An image listed here may carry other names too (node:<version>-bookworm-slim): only ours go.
  const stale = [...new Set(listed.split("\n").filter((t) => t.startsWith(`${REPO}/`) && !current.includes(t)))];
  for (const tag of stale) await podman(["rmi", tag], { timeoutMs: 60_000 });
}
