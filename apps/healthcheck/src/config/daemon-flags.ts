/**
 * Where the container's daemon listens, for `healthcheck status`. A Docker HEALTHCHECK runs in
 * a new process that shares the container's environment but not its command line: with only
 * the environment to go by, `docker run IMAGE --export-prom :9191` left the check asking :9091
 * forever. When PID 1 is this same CLI (the image's ENTRYPOINT, or the wrapper), its own
 * `--export-prom` and `--config` are the daemon's, and status reads them from /proc.
 */
import { pid1Args } from "../pid1-script.js";
import { parseFlags, type FlagInput } from "./flags.js";
import { Problems } from "./problems.js";

/**
 * The `--export-prom` and `--config` that PID 1 was started with, when PID 1 runs this CLI as a
 * daemon; `{}` otherwise (not Linux, another program, unreadable, flags that do not parse).
 *
 * @example
 * ```ts
 * // in a container started as `healthcheck --export-prom :9191`
 * daemonFlags(); // { listen: ":9191" }
 * ```
 */
export function daemonFlags(cmdline = "/proc/1/cmdline", self = process.argv[1]): Pick<FlagInput, "listen" | "config"> {
  try {
    const args = pid1Args(cmdline, self);
    if (!args) return {};
    const flags = parseFlags(args, "", new Problems(), () => undefined);
    if (flags.mode !== "daemon") return {};
    return { ...(flags.listen !== undefined && { listen: flags.listen }), ...(flags.config !== undefined && { config: flags.config }) };
  } catch {
    return {};
  }
}
