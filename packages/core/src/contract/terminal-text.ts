/**
 * Control characters other than newline and tab, DEL, the C1 controls (0x9b is a terminal's CSI)
 * and the Unicode direction controls (which show text in another order than it is).
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from outside (a server's error, an HTTP answer) as it may reach a terminal or a log: every
 * control character but newline and tab written as `\xHH`, every direction control as
 * `\u{HHHH}`. An escape sequence could retitle a window, clear the screen or hide lines; a
 * carriage return could write over a line.
 *
 * @example
 * ```ts
 * showable("ok\u001b[2J");   // "ok\\x1b[2J"
 * showable("a\u202eb");      // "a\\u{202e}b"
 * ```
 */
export function showable(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u{${code.toString(16)}}` : `\\x${code.toString(16).padStart(2, "0")}`;
  });
}
