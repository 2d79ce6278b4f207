/**
 * Resolving targets (resolve.ts) together with the zod schema of a target (schema.ts), for code
 * that composes zod schemas and for the tests that hold the hand-written rules to it. Core's
 * index imports resolve.ts instead, so that nothing at runtime loads zod; this module is not
 * built into dist/.
 */
export * from "./resolve.js";
export { targetOptionsSchema } from "./schema.js";
