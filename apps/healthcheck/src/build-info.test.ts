import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The revision of db_health_check_build_info is written by the build (scripts/build-info.mjs)
// into dist/, which is what the package publishes and `pnpm deploy` copies.
const PKG = fileURLToPath(new URL("..", import.meta.url));
const head = (): string => execFileSync("git", ["rev-parse", "HEAD"], { cwd: PKG, encoding: "utf8" }).trim();

describe("build info", () => {
  it("dist/build-info.json names the commit the package was built from", () => {
    const { revision } = JSON.parse(readFileSync(new URL("../dist/build-info.json", import.meta.url), "utf8")) as { revision: string };
    // turbo may replay dist/ from its cache: then the commit is one whose package and
    // dependencies are byte-identical to this checkout (scripts/build-info.mjs), usually HEAD.
    expect(revision).toMatch(/^[0-9a-f]{40}$/);
    const inHistory = spawnSync("git", ["merge-base", "--is-ancestor", revision, "HEAD"], { cwd: PKG });
    expect(inHistory.status, `${revision} is not HEAD (${head()}) nor one of its ancestors`).toBe(0);
  });

  it("is in the package as published", () => {
    const packed = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: PKG, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })) as Array<{ files: Array<{ path: string }> }>;
    expect(packed[0]!.files.map((f) => f.path)).toContain("dist/build-info.json");
  });

  it("is 'unknown' outside a git checkout", () => {
    const script = fileURLToPath(new URL("../scripts/build-info.mjs", import.meta.url));
    // The script resolves git from its own directory; an environment where git finds no
    // repository (GIT_DIR pointing nowhere) stands in for an unpacked tarball or a Docker context.
    const dry = spawnSync(process.execPath, [script, "--print"], { encoding: "utf8", env: { ...process.env, GIT_DIR: "/nonexistent" } });
    expect(dry.status, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual({ revision: "unknown" });
  });
});
