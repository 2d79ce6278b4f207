import bcrypt from "bcryptjs";
import { afterEach, describe, expect, it } from "vitest";
import { basic } from "./__fixtures__/http-fixtures.js";
import { createBasicAuth, parseBasic, type BasicAuth } from "./basic-auth.js";

const opened: BasicAuth[] = [];
afterEach(async () => void (await Promise.all(opened.splice(0).map((a) => a.close()))));
const basicAuth = (users: Map<string, string>, maxPending = 16): BasicAuth => {
  const auth = createBasicAuth(users, { maxPending, timeoutMs: 30_000 });
  opened.push(auth);
  return auth;
};

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
    const auth = basicAuth(new Map([["prometheus", bcrypt.hashSync("right", 12)]]));
    let t = performance.now();
    expect(await auth.check(basic("prometheus", "right"))).toBe("ok");
    const first = performance.now() - t;

    t = performance.now();
    const repeated = await Promise.all(Array.from({ length: 20 }, () => auth.check(basic("prometheus", "right"))));
    const cached = performance.now() - t;
    expect(repeated.every((v) => v === "ok")).toBe(true);
    expect(cached).toBeLessThan(first / 4);

    expect(await auth.check(basic("prometheus", "wrong"))).toBe("denied");
    expect(await auth.check(basic("nobody", "right"))).toBe("denied");
    expect(await auth.check(undefined)).toBe("denied");
  });

  it("shares one comparison among concurrent first checks of a pair", async () => {
    const auth = basicAuth(new Map([["p", bcrypt.hashSync("pw", 12)]]));
    let t = performance.now();
    await auth.check(basic("p", "other"));
    const one = performance.now() - t;
    t = performance.now();
    const results = await Promise.all(Array.from({ length: 8 }, () => auth.check(basic("p", "pw"))));
    // eight separate comparisons would take about eight times as long
    expect(performance.now() - t).toBeLessThan(one * 3);
    expect(results.every((v) => v === "ok")).toBe(true);
  });
});
