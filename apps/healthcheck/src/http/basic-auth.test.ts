import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import { basic } from "./__fixtures__/http-fixtures.js";
import { createBasicAuth, parseBasic } from "./basic-auth.js";

describe("parseBasic", () => {
  it("splits on the first colon and rejects what is not Basic", () => {
    expect(parseBasic(basic("u", "p:w"))).toEqual({ user: "u", password: "p:w" });
    expect(parseBasic(`bAsIc ${Buffer.from("u:").toString("base64")}`)).toEqual({ user: "u", password: "" });
    expect(parseBasic(undefined)).toBeUndefined();
    expect(parseBasic("Bearer abc")).toBeUndefined();
    expect(parseBasic(`Basic ${Buffer.from("no-colon").toString("base64")}`)).toBeUndefined();
    expect(parseBasic("Basic not base64!")).toBeUndefined();
  });
});

describe("createBasicAuth", () => {
  it("accepts the right password only, and pays bcrypt once per verified pair", async () => {
    // Cost 12 makes one comparison take hundreds of ms, so a cached check is clearly cheaper.
    const auth = createBasicAuth(new Map([["prometheus", bcrypt.hashSync("right", 12)]]));
    let t = performance.now();
    expect(await auth(basic("prometheus", "right"))).toBe(true);
    const first = performance.now() - t;

    t = performance.now();
    const repeated = await Promise.all(Array.from({ length: 20 }, () => auth(basic("prometheus", "right"))));
    const cached = performance.now() - t;
    expect(repeated.every(Boolean)).toBe(true);
    expect(cached).toBeLessThan(first / 4);

    expect(await auth(basic("prometheus", "wrong"))).toBe(false);
    expect(await auth(basic("nobody", "right"))).toBe(false);
    expect(await auth(undefined)).toBe(false);
  });

  it("shares one comparison among concurrent first checks of a pair", async () => {
    const auth = createBasicAuth(new Map([["p", bcrypt.hashSync("pw", 12)]]));
    let t = performance.now();
    await auth(basic("p", "other"));
    const one = performance.now() - t;
    t = performance.now();
    const results = await Promise.all(Array.from({ length: 8 }, () => auth(basic("p", "pw"))));
    // eight separate comparisons would take about eight times as long
    expect(performance.now() - t).toBeLessThan(one * 3);
    expect(results.every(Boolean)).toBe(true);
  });
});
