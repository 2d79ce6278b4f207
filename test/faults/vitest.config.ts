import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      // Renders docs/fault-matrix.md from the rows the fault tests recorded (.test-results/fault-matrix/).
      globalSetup: ["./src/matrix/global-setup.ts"],
    },
  }),
);
