// Run by `pnpm build` after tsc: writes dist/build-info.json with the git commit the package is
// built from (the one checked out; uncommitted changes are not marked, as in Prometheus' own
// builds), which the CLI reports as the `revision` of db_health_check_build_info. It lives in
// dist/, so the published package and `pnpm deploy` carry it. Outside a git checkout (a Docker
// build context without .git, an unpacked tarball) the revision is "unknown": a guess would be
// worse than saying so.
//
// The root `pnpm build` passes the commit in BUILD_REVISION, which apps/healthcheck/turbo.json
// makes part of the build's cache key: turbo would otherwise replay an older build's dist/ (and
// its revision) after a commit that left this package's files alone.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const COMMIT = /^[0-9a-f]{40,64}$/;
const root = fileURLToPath(new URL("..", import.meta.url));

function fromGit() {
  try {
    const head = execFileSync("git", ["rev-parse", "--verify", "HEAD"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 }).trim();
    return COMMIT.test(head) ? head : "unknown";
  } catch {
    return "unknown"; // not a git checkout, or git is not installed
  }
}

const given = process.env.BUILD_REVISION;
const revision = given !== undefined && (COMMIT.test(given) || given === "unknown") ? given : fromGit();
const text = `${JSON.stringify({ revision })}\n`;
// --print shows what would be written, without touching dist/ (tests).
if (process.argv.includes("--print")) process.stdout.write(text);
else {
  mkdirSync(new URL("../dist/", import.meta.url), { recursive: true });
  writeFileSync(new URL("../dist/build-info.json", import.meta.url), text);
}
