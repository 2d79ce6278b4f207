/**
 * checkTargetConfigs as it was with zod (before validate.ts), for validate.test.ts: the same
 * inputs must give the same problems, settings and DSNs. Test-only (fixtures are not built).
 */
import type * as z from "zod";
import { withSecrets } from "../../contract/describe-value.js";
import { unknownKey } from "../suggest.js";
import { baseSchema, keepingParsedDsns, shape, thresholdsShape } from "../schema.js";
import { crossFieldProblems, withCheckTimeouts, type CrossFields, type Problem } from "../validate.js";
import { CHECK_KEYS } from "../checks-schema.js";
import { targetSecrets, type TargetCheck, type CheckedSettings, type CheckedTarget, type ConfigProblem } from "../check.js";

/**
 * The zod-based check of several targets.
 *
 * @example
 * ```ts
 * zodCheckTargetConfigs([{ dsn: "file:app.db", interval: "5x" }]).problems[0]?.path; // [0, "interval"]
 * ```
 */
export function zodCheckTargetConfigs(inputs: readonly unknown[]): TargetCheck {
  const own = targetSecrets(inputs);
  const secrets = own.flat();
  const problems: ConfigProblem[] = [];
  const targets = withSecrets(secrets, () =>
    keepingParsedDsns((parsed) =>
      inputs.map((input, i): CheckedTarget => {
        const checked = checkTarget(input);
        problems.push(...checked.problems.map((p) => ({ ...p, path: [i, ...p.path] })));
        const dsn = isRecord(input) && typeof input["dsn"] === "string" ? parsed.get(input["dsn"]) : undefined;
        return { secrets: own[i]!, ...(dsn ? { dsn } : {}), ...(checked.settings ? { settings: checked.settings } : {}) };
      }),
    ),
  );
  const owner = new Map<string, number>();
  inputs.forEach((input, i) => {
    const name = isRecord(input) ? shape.name.safeParse(input["name"]).data : undefined;
    if (name === undefined) return;
    const first = owner.get(name);
    if (first === undefined) owner.set(name, i);
    else problems.push({ path: [i, "name"], message: `"${name}" is already the name of targets[${first}]; give each target its own name` });
  });
  return { problems, targets, secrets };
}

function checkTarget(input: unknown): { problems: Problem[]; settings?: CheckedSettings } {
  const record = isRecord(input) ? input : undefined;
  const result = baseSchema.safeParse(input);
  if (result.success) return { problems: crossFieldProblems(result.data), settings: withCheckTimeouts(result.data) as CheckedSettings };
  const problems: Problem[] = [];
  for (const issue of result.error.issues) {
    const path = issue.path.map((k) => (typeof k === "symbol" ? String(k) : k));
    if (issue.code === "unrecognized_keys") {
      const known = path.length === 0 ? Object.keys(shape) : path[0] === "checks" ? CHECK_KEYS : Object.keys(thresholdsShape);
      for (const key of issue.keys) problems.push({ path: [...path, key], message: unknownKey(key, known) });
    } else {
      problems.push({ path, message: issue.message });
    }
  }
  if (record) problems.push(...crossFieldProblems(validFields(record)));
  return { problems };
}

function validFields(record: Record<string, unknown>): CrossFields {
  const value = <T>(r: z.ZodSafeParseResult<T>) => (r.success ? r.data : undefined);
  const t = isRecord(record["thresholds"]) ? record["thresholds"] : {};
  return {
    readTimeout: value(shape.readTimeout.safeParse(record["readTimeout"])),
    writeTimeout: value(shape.writeTimeout.safeParse(record["writeTimeout"])),
    interval: value(shape.interval.safeParse(record["interval"])),
    pruneAfter: value(shape.pruneAfter.safeParse(record["pruneAfter"])),
    thresholds: {
      pingLatency: value(thresholdsShape.pingLatency.safeParse(t["pingLatency"])),
      readLatency: value(thresholdsShape.readLatency.safeParse(t["readLatency"])),
      writeLatency: value(thresholdsShape.writeLatency.safeParse(t["writeLatency"])),
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
