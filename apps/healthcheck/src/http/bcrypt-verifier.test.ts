import { spawnSync } from "node:child_process";
import bcrypt from "bcryptjs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createBcryptVerifier, type BcryptVerifier, type BcryptVerifierOptions } from "./bcrypt-verifier.js";

// The worker is the built one (dist/http/bcrypt-worker.js): run `pnpm build` first.
const FAULTY = new URL("./__fixtures__/faulty-bcrypt-worker.mjs", import.meta.url);
let hash = "";
beforeAll(() => void (hash = bcrypt.hashSync("right", 8)));

const opened: BcryptVerifier[] = [];
afterEach(async () => void (await Promise.all(opened.splice(0).map((v) => v.close()))));
const verifier = (options: Partial<BcryptVerifierOptions> = {}): BcryptVerifier => {
  const v = createBcryptVerifier({ maxPending: 16, timeoutMs: 30_000, ...options });
  opened.push(v);
  return v;
};

describe("createBcryptVerifier", () => {
  it("compares on the worker: right, wrong, and an unknown user against the dummy hash", async () => {
    const v = verifier();
    expect(await v.verify("right", hash, 8)).toBe(true);
    expect(await v.verify("wrong", hash, 8)).toBe(false);
    expect(await v.verify("right", undefined, 8)).toBe(false);
    expect(await v.verify("right", "$2b$08$not-a-hash", 8)).toBe(false);
    expect(v.pending()).toBe(0);
  });

  it("answers busy at once beyond maxPending, without queueing", async () => {
    const v = verifier({ maxPending: 3 });
    const queued = Array.from({ length: 3 }, (_, i) => v.verify(`wrong${i}`, hash, 8));
    expect(v.pending()).toBe(3);
    expect(await v.verify("right", hash, 8)).toBe("busy");
    expect(await Promise.all(queued)).toEqual([false, false, false]);
    expect(await v.verify("right", hash, 8)).toBe(true);
  });

  it("a worker that crashes fails the check it ran, and a new worker serves the rest of the queue", async () => {
    const v = verifier({ workerUrl: FAULTY });
    const [before, crash, after] = await Promise.allSettled([v.verify("wrong", hash, 8), v.verify("crash", hash, 8), v.verify("right", hash, 8)]);
    expect(before).toEqual({ status: "fulfilled", value: false });
    expect(crash).toMatchObject({ status: "rejected", reason: { message: "bcrypt worker exited (code 1); restarted for the next check" } });
    expect(after).toEqual({ status: "fulfilled", value: true });
  });

  it("a worker that hangs is ended after timeoutMs; the check fails and the next one is served", async () => {
    const v = verifier({ workerUrl: FAULTY, timeoutMs: 300 });
    const [hang, next] = await Promise.allSettled([v.verify("hang", hash, 8), v.verify("right", hash, 8)]);
    expect(hang).toMatchObject({ status: "rejected", reason: { message: "bcrypt comparison took over 300 ms; worker restarted" } });
    expect(next).toEqual({ status: "fulfilled", value: true });
  });

  it("close fails what is queued and what is asked afterwards", async () => {
    const v = verifier();
    await v.verify("right", hash, 8);
    const queued = Promise.allSettled([v.verify("a", hash, 8), v.verify("b", hash, 8)]);
    await v.close();
    expect((await queued).map((r) => r.status)).toEqual(["rejected", "rejected"]);
    await expect(v.verify("right", hash, 8)).rejects.toThrow(/closed/);
  });

  it("an idle worker does not keep the process alive: a script that verifies and never closes exits", () => {
    const built = new URL("../../dist/http/bcrypt-verifier.js", import.meta.url).href;
    const script = `const { createBcryptVerifier } = await import(${JSON.stringify(built)});
      const v = createBcryptVerifier({ maxPending: 4, timeoutMs: 30000 });
      console.log(await v.verify("right", ${JSON.stringify(hash)}, 8));`;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
    expect(run.signal).toBeNull(); // not killed by the timeout
    expect(run.stdout.trim()).toBe("true");
    expect(run.status).toBe(0);
  });
});
