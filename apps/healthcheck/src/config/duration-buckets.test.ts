import { afterAll, describe, expect, it } from "vitest";
import { resolveError, resolveOk, tempDir } from "./__fixtures__/helpers.js";
import { FINE_DURATION_BUCKETS } from "./settings.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const DSN = ["--dsn", "file:a.db"];

describe("--duration-buckets, DB_HEALTH_DURATION_BUCKETS, durationBuckets:", () => {
  it("leaves core's default unless a source sets it", async () => {
    expect((await resolveOk(DSN)).durationBuckets).toBeUndefined();
  });

  it("takes fine or bounds in seconds, ascending, from flag > variable > YAML", async () => {
    const file = tmp.write("buckets.yaml", "durationBuckets: [0.5, 0.01, 2]\ntargets:\n  - dsn: file:a.db\n");
    expect((await resolveOk(["--config", file])).durationBuckets).toEqual([0.01, 0.5, 2]);
    expect((await resolveOk(["--config", file], { DB_HEALTH_DURATION_BUCKETS: "fine" })).durationBuckets).toEqual([...FINE_DURATION_BUCKETS]);
    expect((await resolveOk(["--config", file, "--duration-buckets", "0.2, 0.1,5"], { DB_HEALTH_DURATION_BUCKETS: "fine" })).durationBuckets).toEqual([0.1, 0.2, 5]);
    const fine = tmp.write("fine.yaml", "durationBuckets: fine\ntargets:\n  - dsn: file:a.db\n");
    expect((await resolveOk(["--config", fine])).durationBuckets).toEqual([...FINE_DURATION_BUCKETS]);
  });

  it("names the source of a bound that is not one, a repeat, or too many", async () => {
    expect(await resolveError([...DSN, "--duration-buckets", "0.1,x"])).toContain('--duration-buckets: "x" is not a number of seconds above 0');
    expect(await resolveError(DSN, { DB_HEALTH_DURATION_BUCKETS: "0,1" })).toContain('DB_HEALTH_DURATION_BUCKETS: "0" is not a number of seconds above 0');
    expect(await resolveError([...DSN, "--duration-buckets", "1,1"])).toContain("--duration-buckets: names a bound twice");
    const many = Array.from({ length: 31 }, (_, i) => String(i + 1)).join(",");
    expect(await resolveError([...DSN, "--duration-buckets", many])).toContain("at most 30 bounds");
    const file = tmp.write("bad.yaml", "durationBuckets: [0.1, -1]\ntargets:\n  - dsn: file:a.db\n");
    expect(await resolveError(["--config", file])).toMatch(/durationBuckets.*"?-1"? is not a number of seconds above 0/);
  });

  it("is a daemon setting: refused with --once on the command line", async () => {
    expect(await resolveError(["--once", ...DSN, "--duration-buckets", "fine"])).toContain("--duration-buckets: does not apply with --once");
  });
});

describe("core's default bounds", () => {
  it("hold the alert rules' thresholds (0.1 s read, 0.2 s write) and the default deadlines (2 s, 5 s)", async () => {
    const { createMetrics, DEFAULTS } = await import("@alfred/db-health-core");
    const m = createMetrics({ legacyNames: false });
    m.declare({ target: "a", driver: "sqlite" });
    const ms = (n: number) => ({ ok: true, ms: n });
    m.observe({ target: "a", driver: "sqlite", status: "up", role: "primary", durationMs: 4, checkedAt: new Date(0), phases: { connect: ms(1), ping: ms(1), write: ms(1), read: ms(1) } } as never);
    const bounds = [...(await m.render()).matchAll(/db_probe_duration_seconds_bucket\{le="([^"]+)",[^}]*phase="read"\}/g)].map((x) => x[1]);
    expect(bounds).toEqual(["0.001", "0.005", "0.025", "0.1", "0.2", "0.5", "2", "5", "+Inf"]);
    for (const deadline of [DEFAULTS.readTimeout, DEFAULTS.writeTimeout, DEFAULTS.connectTimeout]) expect(bounds).toContain(String(deadline / 1000));
  });
});
