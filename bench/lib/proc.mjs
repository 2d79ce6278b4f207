// A measured process, seen from outside: CPU seconds and RSS from /proc, and a spawner whose
// child is killed at cleanup (also on ^C) and that resolves once the child says it is ready.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { onCleanup } from "./cleanup.mjs";

const CLK_TCK = 100; // Linux USER_HZ
export const sleep = (t) => new Promise((r) => setTimeout(r, t));

/** utime + stime of a process in seconds, and its RSS in KB. */
export function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpu = (Number(f[11]) + Number(f[12])) / CLK_TCK;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
  return { cpu, rss };
}

/** Spawns a node process, killed at cleanup; resolves once `ready()` says so. */
export async function startProcess(label, args, env, ready, timeoutMs) {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } });
  let stderr = "";
  child.stderr.on("data", (b) => (stderr = (stderr + b).slice(-2000)));
  const stop = onCleanup(label, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 12_000);
    await exited;
    clearTimeout(t);
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label} exited ${child.exitCode}: ${stderr}`);
    if (await ready().catch(() => false)) return { child, stop };
    if (Date.now() > deadline) throw new Error(`${label} not ready after ${timeoutMs} ms: ${stderr}`);
    await sleep(250);
  }
}
