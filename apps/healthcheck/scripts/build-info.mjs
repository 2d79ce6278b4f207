// Run by `pnpm build` after tsc: writes dist/build-info.json with the git commit the package is
// built from, which the CLI reports as the `revision` of db_health_check_build_info. It lives in
// dist/, so the published package and `pnpm deploy` carry it. Outside a git checkout (a Docker
// build context without .git, an unpacked tarball) the revision is "unknown": a guess would be
// worse than saying so. turbo replays dist/ from its cache only when this package and its
// dependencies are byte-identical to that build, so a replayed revision names a commit holding
// exactly this code.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
let revision = "unknown";
try {
  const head = execFileSync("git", ["rev-parse", "--verify", "HEAD"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 }).trim();
  if (/^[0-9a-f]{40,64}$/.test(head)) revision = head;
} catch {
  // not a git checkout, or git is not installed
}
const text = `${JSON.stringify({ revision })}\n`;
// --print shows what would be written, without touching dist/ (tests).
if (process.argv.includes("--print")) process.stdout.write(text);
else {
  mkdirSync(new URL("../dist/", import.meta.url), { recursive: true });
  writeFileSync(new URL("../dist/build-info.json", import.meta.url), text);
}
