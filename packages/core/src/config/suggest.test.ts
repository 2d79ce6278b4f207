import { describe, expect, it } from "vitest";
import { unknownKey } from "./suggest.js";

const CHECK_KEYS = ["name", "query", "min", "max", "timeout"];

describe("unknownKey", () => {
  it("suggests a key with two letters swapped, short keys included", () => {
    expect(unknownKey("mni", CHECK_KEYS)).toBe('unknown option; did you mean "min"?');
    expect(unknownKey("qeury", CHECK_KEYS)).toBe('unknown option; did you mean "query"?');
  });

  it("says a YAML merge key is not supported, instead of listing the options", () => {
    expect(unknownKey("<<", CHECK_KEYS)).toBe(
      "a YAML merge key (<<: *anchor) is not supported: write the keys out, or alias a whole mapping or list (checks: *list)",
    );
  });

  it("still lists the options for a key near none of them", () => {
    expect(unknownKey("zzz", CHECK_KEYS)).toBe("unknown option (known: name, query, min, max, timeout)");
  });
});
