import { describe, expect, it } from "vitest";
import { clientKey } from "./client-address.js";

describe("clientKey", () => {
  it("keeps IPv4 as is and folds IPv4-mapped IPv6 into it", () => {
    expect(clientKey("10.0.0.7")).toBe("10.0.0.7");
    expect(clientKey("::ffff:10.0.0.7")).toBe("10.0.0.7");
    expect(clientKey("::FFFF:127.0.0.1")).toBe("127.0.0.1");
    expect(clientKey(undefined)).toBeUndefined();
  });

  it("counts IPv6 by /64, whatever the spelling of the address", () => {
    const key = "2001:db8:0:1::/64";
    for (const a of ["2001:db8:0:1::5", "2001:0db8:0000:0001:0:0:0:6", "2001:DB8:0:1:a:b:c:d%eth0", "2001:db8::1:0:0:0:7"]) expect(clientKey(a), a).toBe(key);
    expect(clientKey("2001:db8:0:2::5")).toBe("2001:db8:0:2::/64");
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
    expect(clientKey("fe80::1%lo")).toBe("fe80:0:0:0::/64");
    expect(clientKey("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64");
  });
});
