/** SQL Server ADO connection strings: `Server=tcp:db,1433;Database=app;User Id=sa;Password={p;ss};…`. */
import type { ParsedDsn } from "./parsed-dsn.js";
import { PASSWORD_KEYS, fail, firstOf, parsePort, setParam, setPassword, type Ctx } from "./context.js";
import type { Span } from "../redact/spans.js";

const ADO_SERVER_KEYS = new Set(["server", "data source", "address", "addr", "network address"]);
const ADO_DATABASE_KEYS = new Set(["database", "initial catalog"]);
const ADO_USER_KEYS = new Set(["user id", "uid", "user", "username", "user name"]);

/** First keys that only ADO uses (lower-case), so that "Server=db" alone is recognised. */
export const ADO_FIRST_KEYS: ReadonlySet<string> = new Set([
  ...ADO_SERVER_KEYS,
  ...ADO_DATABASE_KEYS,
  "user id",
  "uid",
  "integrated security",
  "trusted_connection",
]);

/**
 * Parses an ADO string; the server key gives host, `,port` and `\instance`.
 *
 * @example
 * ```ts
 * parseAdo(ctx); // { scheme: "sqlserver", form: "ado", host: "db", port: 1433, database: "app", … }
 * ```
 */
export function parseAdo(ctx: Ctx): ParsedDsn {
  const parsed: ParsedDsn = { scheme: "sqlserver", form: "ado", params: {} };
  let server: string | undefined;
  // Keys are case-insensitive and several spell one setting: each setting may appear once, as
  // clients disagree on whether the first or the last one wins.
  const seen = new Map<string, string>();
  for (const { key, value, span } of adoPairs(ctx)) {
    const name = key.toLowerCase().replace(/\s+/g, " ");
    const setting = settingOf(name);
    const first = seen.get(setting);
    if (first !== undefined) {
      const shown = setting === "password" ? "the password" : first.toLowerCase() === name ? `"${first}"` : `"${first}" and "${key}" (one setting)`;
      throw fail(ctx, `${shown} is given twice: keep one`);
    }
    seen.set(setting, key);
    if (PASSWORD_KEYS.has(name)) {
      setPassword(ctx, parsed, span[0], span[1], value);
      continue;
    }
    setParam(parsed.params, key, value);
    if (ADO_SERVER_KEYS.has(name)) server = value;
    else if (ADO_DATABASE_KEYS.has(name) && value) parsed.database = value;
    else if (ADO_USER_KEYS.has(name) && value) parsed.user = value;
  }
  if (!server) throw fail(ctx, `it names no server: add e.g. Server=db.example,1433;`);
  let host = server.replace(/^tcp:/i, "").trim();
  const comma = host.lastIndexOf(",");
  if (comma >= 0) {
    const port = parsePort(ctx, host.slice(comma + 1).trim());
    if (port !== undefined) parsed.port = port;
    host = host.slice(0, comma).trim();
  }
  const backslash = host.indexOf("\\");
  if (backslash >= 0) {
    const instance = host.slice(backslash + 1);
    if (instance) parsed.instance = instance;
    host = host.slice(0, backslash);
  }
  host = host.replace(/^\[(.*)\]$/, "$1");
  if (host) parsed.host = host;
  return parsed;
}

/** The setting a lower-cased key names: synonyms (Server, Data Source, Address…) share one. */
function settingOf(name: string): string {
  if (PASSWORD_KEYS.has(name)) return "password";
  if (ADO_SERVER_KEYS.has(name)) return "server";
  if (ADO_DATABASE_KEYS.has(name)) return "database";
  if (ADO_USER_KEYS.has(name)) return "user";
  return name;
}

/** Splits Key=Value;… honouring {…} ("}}" escapes), "…" and '…' (doubled quote escapes). */
function adoPairs(ctx: Ctx): { key: string; value: string; span: Span }[] {
  const { text } = ctx;
  const pairs: { key: string; value: string; span: Span }[] = [];
  let i = 0;
  for (;;) {
    while (i < text.length && /[\s;]/.test(text[i] ?? "")) i++;
    if (i >= text.length) return pairs;
    const eq = text.indexOf("=", i);
    const semi = text.indexOf(";", i);
    if (eq < 0 || (semi >= 0 && semi < eq)) {
      throw fail(ctx, `every part must be Key=Value, separated by ";" (quote values containing ";" as {…})`);
    }
    const key = text.slice(i, eq).trim();
    if (!key) throw fail(ctx, `a part has "=" but no key before it`);
    let j = eq + 1;
    while (text[j] === " " || text[j] === "\t") j++;
    const open = text[j];
    if (open === "{" || open === '"' || open === "'") {
      const close = open === "{" ? "}" : open;
      let value = "";
      let k = j + 1;
      for (;;) {
        const c = text.indexOf(close, k);
        if (c < 0) throw fail(ctx, `the value of "${key}" opens with ${open} but never closes with ${close}`);
        value += text.slice(k, c);
        k = c;
        if (text[c + 1] !== close) break;
        value += close;
        k = c + 2;
      }
      pairs.push({ key, value, span: [j + 1, k] });
      i = k + 1;
      while (text[i] === " " || text[i] === "\t") i++;
      if (i < text.length && text[i] !== ";") throw fail(ctx, `unexpected text after the quoted value of "${key}": end it with ";"`);
    } else {
      const end = firstOf(text, ";", j);
      const value = text.slice(j, end).trimEnd();
      pairs.push({ key, value, span: [j, j + value.length] });
      i = end;
    }
  }
}
