/**
 * Running tools and signalling processes: every external command has a hard timeout, runs
 * without the caller's PG or MYSQL variables, and, when we are root, as the server's OS user.
 */
import { execFile, execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { chown } from "node:fs/promises";

/** Servers refuse to run as root: when we are root, they and their tools run as their own OS user. */
export const isRoot = process.getuid?.() === 0;

export interface OsUser {
  uid: number;
  gid: number;
}

const users = new Map<string, OsUser>();

/** uid and gid of an OS account (postgres, mysql), looked up once. */
export function osUser(name: string): OsUser {
  let user = users.get(name);
  if (user === undefined) {
    const id = (flag: string): number => Number(execFileSync("id", [flag, name], { encoding: "utf8" }).trim());
    user = { uid: id("-u"), gid: id("-g") };
    users.set(name, user);
  }
  return user;
}

/** Hands a path to `owner` when we are root (no-op otherwise: the server then runs as ourselves). */
export async function giveTo(owner: string, path: string): Promise<void> {
  if (!isRoot) return;
  const { uid, gid } = osUser(owner);
  await chown(path, uid, gid);
}

/** The environment without PG* and MYSQL* variables, so a developer's PGPORT or MYSQL_PWD cannot redirect our tools. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PG") && !k.startsWith("MYSQL")) env[k] = v;
  return env;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** execFile with a hard timeout (SIGKILL); the error message carries the tool's output. */
export function run(file: string, args: string[], opts: { cwd: string; timeoutMs: number; as?: OsUser }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: opts.cwd, env: cleanEnv(), timeout: opts.timeoutMs, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024, ...opts.as },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const how = err.killed ? `timed out after ${opts.timeoutMs} ms` : `failed (${err.code ?? err.signal})`;
        const output = `${stdout}\n${stderr}`.trim();
        reject(new Error(`${[file, ...args].join(" ")} ${how}${output ? `:\n${output}` : ""}`));
      },
    );
  });
}

/** Sends a signal, ignoring a process that is already gone. Never pid 0 or below: kill(-1) reaches every process we may signal. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** A pid followed by its direct children, from /proc/<pid>/stat (ppid is the 2nd field after the "(comm)"). */
export function processTree(parent: number): number[] {
  if (!Number.isInteger(parent) || parent <= 0) return []; // the children of 0 are init and kthreadd
  const pids = [parent];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === parent) pids.push(Number(entry));
    } catch {
      // the process exited while we were scanning
    }
  }
  return pids;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves true when the promise settled within ms. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
