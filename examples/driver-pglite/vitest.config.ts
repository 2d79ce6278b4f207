import { defineConfig } from "vitest/config";

// Self-contained, as in a plugin's own repository. The JSON report is what this monorepo's CI sums.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".test-results/vitest.json" }]],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
