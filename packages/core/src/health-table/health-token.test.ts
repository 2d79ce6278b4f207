import { describe, expect, it } from "vitest";
import { healthToken } from "./health-token.js";

describe("healthToken", () => {
  it("gives 8 base64url characters, never a space, and no token twice across many refills of its random pool", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const t = healthToken();
      expect(t).toMatch(/^[A-Za-z0-9_-]{8}$/);
      seen.add(t);
    }
    expect(seen.size).toBe(5000);
  });
});
