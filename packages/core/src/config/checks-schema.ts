/**
 * The zod rules of a target's `checks:` list (custom read-only queries): each check's fields, the
 * bounds between them, unique names and the cap on their number. The timeout's rule is the
 * target's own timeout rule, passed in by schema.ts. Like schema.ts, the reference of the
 * hand-written rules in validate.ts, which core's checks use; nothing at runtime imports it.
 */
import * as z from "zod";
import type * as zc from "zod/v4/core";
import { describeValue } from "../contract/describe-value.js";
import { unknownKey } from "./suggest.js";
import { CHECK_KEYS, CHECK_NAME_RE, MAX_CHECKS, MAX_QUERY_LENGTH } from "./validate.js";

export { CHECK_KEYS, CHECK_NAME_RE, MAX_CHECKS, MAX_QUERY_LENGTH, withCheckTimeouts } from "./validate.js";

const EXAMPLE = '{ name: backlog, query: "SELECT count(*) FROM jobs", max: 1000 }';
const NAME_RULE = 'use 1–63 lowercase letters, digits or "_", starting with a letter';

const mustBe = (what: string) => (issue: zc.$ZodRawIssue) =>
  issue.input === undefined ? `is required (${what})` : `must be ${what}, got ${describeValue(issue.input)}`;

const bound = z.number({ error: mustBe("a finite number") }).refine(Number.isFinite, { error: (i) => `must be a finite number, got ${describeValue(i.input)}` });

/**
 * The fields of one check, given the schema of a timeout.
 *
 * @example
 * ```ts
 * const shape = checkShape(timeout);
 * shape.name.safeParse("Backlog").success; // false
 * ```
 */
export function checkShape<T extends z.ZodType<number, string | number>>(timeout: T) {
  return {
    name: z.string({ error: mustBe(`a name: ${NAME_RULE}`) }).regex(CHECK_NAME_RE, {
      error: (i) => `${describeValue(i.input)} is not a valid check name: ${NAME_RULE}`,
    }),
    query: z
      .string({ error: mustBe("one SQL statement whose first column is a number") })
      .refine((q) => q.trim() !== "", { error: "must not be empty: give one SQL statement whose first column is a number, e.g. SELECT count(*) FROM jobs" })
      .refine((q) => q.length <= MAX_QUERY_LENGTH, {
        error: (i) => `must be at most ${MAX_QUERY_LENGTH.toLocaleString("en-US")} characters, got ${String(i.input).length.toLocaleString("en-US")}: a check is one statement`,
      }),
    min: bound.optional(),
    max: bound.optional(),
    timeout: timeout.optional(),
  };
}

/**
 * The `checks:` list, given the schema of a timeout: at most {@link MAX_CHECKS} strict objects,
 * `min` at most `max`, names unique. A check without `timeout` takes the target's `readTimeout`
 * later (see {@link withCheckTimeouts}).
 *
 * @example
 * ```ts
 * customChecksSchema(timeout).safeParse([{ name: "a", query: "SELECT 1", min: 2, max: 1 }]).error?.issues[0]?.path; // [0, "max"]
 * ```
 */
export function customChecksSchema<T extends z.ZodType<number, string | number>>(timeout: T) {
  const item = z
    .strictObject(checkShape(timeout), {
      error: (i) =>
        i.code === "unrecognized_keys"
          ? (i.keys as string[]).map((k) => `${describeValue(k)}: ${unknownKey(k, CHECK_KEYS)}`).join("; ")
          : mustBe(`an object like ${EXAMPLE}`)(i),
    })
    .superRefine(
      (c, ctx) => {
        // Also run when another field failed (`when`): then the check may hold anything.
        const { min, max } = (c ?? {}) as { min?: unknown; max?: unknown };
        if (typeof min === "number" && typeof max === "number" && min > max) {
          ctx.addIssue({ code: "custom", path: ["max"], message: `${max} is less than min (${min}): no value could pass; swap them or fix one` });
        }
      },
      { when: () => true },
    );
  return z
    .array(item, { error: mustBe(`a list of checks, each like ${EXAMPLE}`) })
    .superRefine(
      (list, ctx) => {
        // Both rules also run when an entry failed (`when`), so every problem is named at once.
        if (list.length > MAX_CHECKS) ctx.addIssue({ code: "custom", message: `must hold at most ${MAX_CHECKS} checks, got ${list.length}: each runs in every cycle` });
        const first = new Map<string, number>();
        list.forEach((c: unknown, i) => {
          const name = (c as { name?: unknown } | null)?.name;
          if (typeof name !== "string") return;
          const seen = first.get(name);
          if (seen === undefined) first.set(name, i);
          else ctx.addIssue({ code: "custom", path: [i, "name"], message: `${describeValue(name)} is already the name of checks[${seen}]; give each check its own name` });
        });
      },
      { when: (payload) => Array.isArray(payload.value) },
    );
}
