import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { CLI } from "./__fixtures__/cli-path.js";

const PROBE = fileURLToPath(new URL("./__fixtures__/young-gen-probe.mjs", import.meta.url));
const OLD_GEN_PROBE = fileURLToPath(new URL("./__fixtures__/old-gen-probe.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "dbh-young-gen-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** New-space bytes before and after the probe's allocations, in a process started with `args`. */
async function newSpaceAfterLoad(key: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ before: number; after: number }> {
  const [before, after] = await numbersAfterLoad(PROBE, "YOUNG_GEN", key, args, env);
  return { before: before!, after: after! };
}

/**
 * What a preloaded probe (`probe`, a fixture) wrote to `$<prefix>_FILE` after its allocations,
 * in a process started with `args`: at once with `<prefix>_SELF_TEST` set, otherwise on SIGUSR2
 * once the process says it is serving.
 */
async function numbersAfterLoad(probe: string, prefix: string, key: string, args: string[], env: NodeJS.ProcessEnv = {}, ready = /serving/): Promise<number[]> {
  const file = join(dir, `${key}.txt`);
  const selfTest = env[`${prefix}_SELF_TEST`];
  const child = spawn(process.execPath, ["--import", probe, ...args], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env, [`${prefix}_FILE`]: file } });
  try {
    let err = "";
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`not ready: ${err}`)), 15_000);
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
        if (ready.test(err)) clearTimeout(t), resolve();
      });
      if (selfTest) clearTimeout(t), resolve();
    });
    if (!selfTest) child.kill("SIGUSR2");
    const deadline = Date.now() + 20_000;
    while (!existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return readFileSync(file, "utf8").split(" ").map(Number);
  } finally {
    child.kill("SIGKILL");
  }
}

describe("the daemon's young generation", () => {
  it("does not grow once the daemon probes, under an allocation load that grows it fourfold or more in a plain process", async () => {
    const plain = await newSpaceAfterLoad("plain", ["-e", "0"], { YOUNG_GEN_SELF_TEST: "1" });
    const daemon = await newSpaceAfterLoad("daemon", [CLI, "--dsn", `file:${join(dir, "a.db")}?mode=rwc`, "--export-prom", "127.0.0.1:0", "--interval", "1h"]);
    // Without the cap V8 doubles the semi-spaces up to 16 MB each (32 MB of new space).
    expect(plain.after, "the load grows an uncapped young generation").toBeGreaterThanOrEqual(4 * plain.before);
    expect(plain.after).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    // Start-up (loading the chunks) may have grown it already; from then on it stays.
    expect(daemon.after).toBeLessThanOrEqual(daemon.before);
  });

  it("is capped before a large configuration is read: 3,000 targets leave it where loading the chunks left it", async () => {
    // Resolving thousands of targets allocates enough to double the semi-spaces up to their
    // maximum (32 MB of new space) when the cap comes only before the first cycle.
    const config = join(dir, "many.yaml");
    const targets = Array.from({ length: 3000 }, (_, i) => ({ name: `t${i}`, dsn: `file:${join(dir, "absent", `t${i}.db`)}?mode=ro` }));
    writeFileSync(config, JSON.stringify({ defaults: { interval: "1h" }, targets })); // JSON is YAML
    const daemon = await newSpaceAfterLoad("many", [CLI, "--config", config, "--export-prom", "127.0.0.1:0"]);
    expect(daemon.before).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(daemon.after).toBeLessThanOrEqual(daemon.before);
  }, 30_000);
});

describe("the daemon's old generation", () => {
  it("is collected before it grows far past what stays alive, where a plain process lets garbage pile up", async () => {
    // V8 sets the next major collection at up to 4× the heap that survived the last one: a daemon
    // with 1,000 targets (~50 MB alive) grew to 280–350 MB of RSS under Prometheus-style scrapes
    // before collecting the bodies it had sent. The daemon sets --heap-growing-percent (run-cli.ts).
    const plain = await numbersAfterLoad(OLD_GEN_PROBE, "OLD_GEN", "old-plain", ["-e", "setTimeout(() => {}, 30_000)"], { OLD_GEN_SELF_TEST: "1" });
    const daemon = await numbersAfterLoad(OLD_GEN_PROBE, "OLD_GEN", "old-daemon", [CLI, "--dsn", `file:${join(dir, "b.db")}?mode=rwc`, "--export-prom", "127.0.0.1:0", "--interval", "1h"]);
    const mb = (n: number | undefined): number => (n ?? 0) / 1024 / 1024;
    // ~45 MB alive and a 4 MB body at a time: measured 213 MB for the plain process, 115 MB capped.
    expect(mb(plain[0]), "the load piles up garbage in an uncapped heap").toBeGreaterThanOrEqual(150);
    expect(mb(daemon[0])).toBeLessThanOrEqual(0.7 * mb(plain[0]));
  }, 60_000);
});
