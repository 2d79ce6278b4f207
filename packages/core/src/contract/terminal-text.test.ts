import { describe, expect, it } from "vitest";
import { showable } from "./terminal-text.js";

describe("showable", () => {
  it("writes control characters as \\xHH and keeps newlines and tabs", () => {
    expect(showable("a\x1b[2Jb\x00c\x07\rd\u009b\x7f\n\te")).toBe("a\\x1b[2Jb\\x00c\\x07\\x0dd\\x9b\\x7f\n\te");
  });

  it("writes the Unicode direction controls as \\u{HHHH}, which would show the text in another order", () => {
    expect(showable("db_\u202etxt.exe\u202c \u2066x\u2069 \u200e\u200f\u061c")).toBe("db_\\u{202e}txt.exe\\u{202c} \\u{2066}x\\u{2069} \\u{200e}\\u{200f}\\u{61c}");
  });

  it("leaves other text alone", () => {
    const text = "pässwörd 🔑 日本語 \u00a0 \u2028";
    expect(showable(text)).toBe(text);
  });
});
