import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The revision of db_health_check_build_info is written by the build (scripts/build-info.mjs)
// into dist/, which is what the package publishes and `pnpm deploy` copies.
const PKG = fileURLToPath(new URL("..", import.meta.url));
const SCRIPT = fileURLToPath(new URL("../scripts/build-info.mjs", import.meta.url));
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

  it("takes the commit from BUILD_REVISION (the root build sets it, and turbo keys its cache on it), else from git, else 'unknown'", () => {
    const print = (env: Record<string, string | undefined>): unknown => {
      const r = spawnSync(process.execPath, [SCRIPT, "--print"], { encoding: "utf8", env: { ...process.env, BUILD_REVISION: undefined, ...env } });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const commit = "0123456789abcdef0123456789abcdef01234567";
    expect(print({ BUILD_REVISION: commit })).toEqual({ revision: commit });
    expect(print({})).toEqual({ revision: head() });
    // not a commit id: not ours to print
    expect(print({ BUILD_REVISION: "main; rm -rf /" })).toEqual({ revision: head() });
    // An environment where git finds no repository stands in for an unpacked tarball or a
    // Docker build context (which leaves .git out).
    expect(print({ GIT_DIR: "/nonexistent" })).toEqual({ revision: "unknown" });
  });
});
