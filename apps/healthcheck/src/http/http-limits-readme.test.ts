import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HTTP_LIMITS } from "./http-limits.js";

// The table of HTTP limits in docs/http.md is what operators read: it must show every bound the
// server applies, with the value it applies.
const DOC = readFileSync(new URL("../../../../docs/http.md", import.meta.url), "utf8");
const start = DOC.indexOf("- **HTTP limits**");
const LIMITS = DOC.slice(start, DOC.indexOf("\n- **", start + 1));

/** `3_000` as docs/http.md writes it: "3 s"; counts as they are. */
const shown = (key: string, value: number): string => (key.endsWith("Ms") ? `${value / 1000} s` : String(value));

describe("docs/http.md documents HTTP_LIMITS", () => {
  it("has one row per limit, with the value in the code", () => {
    const rows = Object.entries(HTTP_LIMITS).map(([key, value]) => `| \`${key}\` | ${shown(key, value)} |`);
    expect(start).toBeGreaterThan(0);
    expect(rows.filter((row) => !LIMITS.includes(row))).toEqual([]);
    const documented = [...LIMITS.matchAll(/^\s*\| `(\w+)` \| [\d.]+(?: s)? \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(HTTP_LIMITS).sort());
  });
});
