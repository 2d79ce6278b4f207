import { fileURLToPath } from "node:url";

/** The built `healthcheck` command, as package.json's `bin` names it (the tests build first). */
export const CLI = fileURLToPath(new URL("../../dist/cli.cjs", import.meta.url));
