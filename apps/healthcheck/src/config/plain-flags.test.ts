import { describe, expect, it } from "vitest";
import { readCommanderFlags, readPlainFlags, type ReadFlags } from "./flags.js";

// Words a command line is made of: every flag spelling, values of each shape, commands, and the
// shapes the plain reader must leave to commander.
const VALUE_FLAGS = [
  "--dsn", "--name", "--config", "--plugin", "--format", "--export-prom", "--web.listen-address", "--web-config",
  "--web.config.file", "--web.telemetry-path", "--web.timeout-offset", "--duration-buckets", "--log-level",
  "--probe-cache-interval", "--interval", "--connect-timeout", "--read-timeout", "--write-timeout", "--max-retries",
  "--retry-interval", "--role", "--write-check", "--connection", "--probe-id", "--prune-after",
];
const SWITCHES = ["--once", "--degraded-ok", "--no-legacy-metrics", "--no-runtime-metrics", "--no-create-health-table"];
const VALUES = ["postgres://u:p@h:5432/db?sslmode=require", "file:a.db?mode=rwc", "5s", "a=b=c", "json", ":9091", "x y", "", "-1", "--once", "-"];
const WORDS = ["status", "config", "check", "h.yaml", "http://127.0.0.1:9091/readyz", "-h", "--help", "-V", "--version", "--bogus", "--dsn", "--once=yes", "-x"];

/** A deterministic stream of numbers (the same command lines on every run). */
function numbers(seed: number): () => number {
  let x = seed;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

function commandLines(count: number): string[][] {
  const next = numbers(18);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const lines: string[][] = [];
  for (let n = 0; n < count; n++) {
    const words: string[] = [];
    for (let k = Math.floor(next() * 6); k >= 0; k--) {
      const r = next();
      if (r < 0.45) {
        const flag = pick(VALUE_FLAGS);
        const value = pick(VALUES);
        words.push(...(next() < 0.3 ? [`${flag}=${value}`] : [flag, value]));
      } else if (r < 0.7) words.push(pick(SWITCHES));
      else if (r < 0.9) words.push(pick(WORDS.slice(0, 5)));
      else words.push(pick(WORDS));
    }
    lines.push(words);
  }
  return lines;
}

const commander = (words: readonly string[]): ReadFlags | Error => {
  try {
    return readCommanderFlags(words, "1.2.3", () => undefined);
  } catch (err) {
    return err as Error;
  }
};
const comparable = (r: ReadFlags) => ({ values: r.values, given: [...r.given].sort(), args: r.args, flags: r.flags });

describe("the command line without commander", () => {
  it("reads every line it accepts exactly as commander does (2,000 generated lines)", () => {
    let plain = 0;
    for (const words of commandLines(2000)) {
      const mine = readPlainFlags(words);
      if (mine === undefined) continue;
      plain++;
      const theirs = commander(words);
      expect(theirs, JSON.stringify(words)).not.toBeInstanceOf(Error);
      expect(comparable(mine), JSON.stringify(words)).toEqual(comparable(theirs as ReadFlags));
    }
    // Most generated lines are plain ones; the rest go to commander.
    expect(plain).toBeGreaterThan(500);
  });

  it("reads the usual lines itself: --once with targets and settings, a daemon's flags, config check", () => {
    for (const words of [
      ["--once", "--dsn", "postgres://u:p@h/db", "--name", "main", "--dsn=file:a.db", "--format", "json", "--degraded-ok"],
      ["--export-prom", ":9091", "--config", "h.yaml", "--no-legacy-metrics", "--interval=5s", "--role", "primary"],
      ["config", "check", "h.yaml", "--plugin", "./driver.mjs"],
      ["status", "http://127.0.0.1:9091/readyz"],
      [],
    ]) {
      const mine = readPlainFlags(words);
      expect(mine, JSON.stringify(words)).toBeDefined();
      expect(comparable(mine!), JSON.stringify(words)).toEqual(comparable(commander(words) as ReadFlags));
    }
  });

  it("leaves help, version, short flags, unknown flags and doubtful values to commander", () => {
    for (const words of [
      ["--help"], ["-h"], ["--version"], ["-V"], ["--bogus"], ["--dsn"], ["--dsn", "--once"], ["--dsn="], ["--dsn", "-"],
      ["--once=yes"], ["--format", "json", "--format", "text"], ["--once", "--once"], ["-"], ["--interval", "-1s"],
    ]) {
      expect(readPlainFlags(words), JSON.stringify(words)).toBeUndefined();
    }
  });
});
