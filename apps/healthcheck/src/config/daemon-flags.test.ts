import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { daemonFlags } from "./daemon-flags.js";

// A fake /proc/1: `cmdline` (NUL-separated argv) and `cwd`, as the kernel lays them out.
const proc = mkdtempSync(join(tmpdir(), "dbh-pid1-"));
const self = join(proc, "cwd", "cli.js");
mkdirSync(join(proc, "cwd"));
writeFileSync(self, "");
const pid1 = (...argv: string[]): string => {
  writeFileSync(join(proc, "cmdline"), `${argv.join("\0")}\0`);
  return join(proc, "cmdline");
};
afterAll(() => rmSync(proc, { recursive: true, force: true }));

describe("daemonFlags: where the daemon that is PID 1 listens", () => {
  it("reads --export-prom and --config of this CLI's daemon, wrapper mode included", () => {
    expect(daemonFlags(pid1("node", self, "--export-prom", "127.0.0.1:9191", "--config=/etc/hc.yaml"), self)).toEqual({ listen: "127.0.0.1:9191", config: "/etc/hc.yaml" });
    expect(daemonFlags(pid1("node", self, "--", "docker-entrypoint.sh", "postgres", "--export-prom", ":1"), self)).toEqual({});
    expect(daemonFlags(pid1("node", "cli.js", "--export-prom", ":9292", "--", "docker-entrypoint.sh", "postgres"), self)).toEqual({ listen: ":9292" });
  });

  it("reads past Node's own options before the script, as Node does", () => {
    expect(daemonFlags(pid1("node", "--no-memory-reducer", self, "--export-prom", ":9191"), self)).toEqual({ listen: ":9191" });
    expect(daemonFlags(pid1("node", "--require", "/p.cjs", "-r", "./q.cjs", "--stack-size=2000", self, "--export-prom", ":9191"), self)).toEqual({ listen: ":9191" });
    expect(daemonFlags(pid1("node", "--import", "x", "--", self, "--export-prom", ":9191"), self)).toEqual({ listen: ":9191" });
    expect(daemonFlags(pid1("node", "--security-revert", "CVE-2023-46809", "-i", self, "--export-prom", ":9191"), self)).toEqual({ listen: ":9191" });
    // A value read as the script (an option not known to take one) or no script at all: defaults.
    expect(daemonFlags(pid1("node", "--unknown-with-value", "v", self, "--export-prom", ":9191"), self)).toEqual({});
    expect(daemonFlags(pid1("node", "-e", "0", self, "--export-prom", ":9191"), self)).toEqual({});
    expect(daemonFlags(pid1("node", "--print=1", self, "--export-prom", ":9191"), self)).toEqual({});
    // Our script as another option's value is not our script running.
    expect(daemonFlags(pid1("node", "-r", self, join(proc, "other.js"), "--export-prom", ":9191"), self)).toEqual({});
  });

  it("answers nothing for another program, another mode or an unreadable command line", () => {
    expect(daemonFlags(pid1("/sbin/init"), self)).toEqual({});
    expect(daemonFlags(pid1("node", join(proc, "other.js"), "--export-prom", ":9191"), self)).toEqual({});
    expect(daemonFlags(pid1("node", self, "--once", "--export-prom", ":9191"), self)).toEqual({});
    expect(daemonFlags(pid1("node", self, "--no-such-flag"), self)).toEqual({});
    expect(daemonFlags(join(proc, "missing"), self)).toEqual({});
  });
});
