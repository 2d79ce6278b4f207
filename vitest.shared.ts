import { defineConfig } from "vitest/config";

/**
 * Settings every package's vitest config extends. The JSON report lets `.ci/run` sum the
 * passed/failed/skipped counts over all packages into its one summary line.
 */
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".test-results/vitest.json" }]],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests talk to shared servers and throwaway ones on fixed loopback ports.
    fileParallelism: false,
  },
});
