/**
 * The zod form of a duration option, for code that builds zod schemas; core's own checks
 * (validate.ts) use {@link parseDuration} directly, so that nothing at runtime loads zod.
 */
import * as z from "zod";
import { invalidDurationMessage, parseDuration } from "./duration-syntax.js";

export { formatDuration, parseDuration } from "./duration-syntax.js";

/**
 * Zod schema for a duration option: accepts what {@link parseDuration} accepts and outputs
 * milliseconds. Any other input gets the same readable message as `parseDuration`.
 * Chain `.refine()` for bounds and `.default(ms)` for a default.
 *
 * @example
 * ```ts
 * const schema = z.object({ timeout: durationSchema.default(2000) });
 * schema.parse({ timeout: "1m" }); // { timeout: 60000 }
 * ```
 */
export const durationSchema = z
  .union([z.string(), z.number()], { error: (issue) => invalidDurationMessage(issue.input) })
  .transform((value, ctx): number => {
    try {
      return parseDuration(value);
    } catch {
      ctx.issues.push({ code: "custom", message: invalidDurationMessage(value), input: value });
      return z.NEVER;
    }
  });
