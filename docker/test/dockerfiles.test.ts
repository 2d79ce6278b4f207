/**
 * Keeps the Docker files honest on a machine without a Docker engine:
 *
 * 1. Each Dockerfile is parsed (a small parser below: parser directives, comments, continuation
 *    lines, flags, exec form) and linted: pinned base images, stages, user, ports, health check,
 *    exec-form commands, COPY --from, no ADD, no secrets in ENV/ARG, apt hygiene: the hadolint
 *    rules that apply, by their codes. (hadolint is not in Debian; npm's `hadolint` is only a
 *    wrapper around a binary that cannot be downloaded here.)
 * 2. docker-compose.db.yml is parsed: services, pinned images, health checks, mounted files,
 *    agreement with the Prometheus/Grafana files it mounts, and the exporter's command line is
 *    checked by the CLI itself (`config check`); `docker compose config` (or Debian's
 *    docker-compose) validates it too where one is installed.
 * 3. The deploy step of docker/Dockerfile is run as written there (only /out is replaced by a
 *    temporary directory) and the deployed CLI is started against SQLite, PostgreSQL and MariaDB,
 *    with the image variables the wrapped images use.
 *
 * images.test.ts builds and runs the images themselves with podman.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { freePort } from "@alfred/db-health-testkit";

const DOCKER_DIR = fileURLToPath(new URL("..", import.meta.url));
const ROOT = resolve(DOCKER_DIR, "..");
const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
const HEALTHCHECK_VERSION = readJson(join(ROOT, "apps/healthcheck/package.json")).version as string;
const PNPM_VERSION = (readJson(join(ROOT, "package.json")).packageManager as string).split("@")[1]!.split("+")[0]!;
const HEALTHCHECK_IMAGE = `alfred/healthcheck:${HEALTHCHECK_VERSION}`;

// ---------------------------------------------------------------------------------------------
// A small Dockerfile parser
// ---------------------------------------------------------------------------------------------

interface Instruction {
  /** upper-case keyword: FROM, RUN, COPY… */
  keyword: string;
  /** the arguments after the keyword and its flags, continuation lines joined with a space */
  args: string;
  /** leading `--name=value` flags (`--name` alone gives "") */
  flags: Record<string, string>;
  /** the arguments as an array when written in exec (JSON) form */
  exec?: string[];
  /** 1-based line of the keyword */
  line: number;
}

interface Stage {
  index: number;
  /** the FROM instruction */
  from: Instruction;
  name?: string;
  /** FROM's image as written */
  imageRaw: string;
  /** FROM's image with the global ARG defaults substituted */
  image: string;
  /** instructions after FROM, up to the next FROM */
  instructions: Instruction[];
}

interface Dockerfile {
  path: string;
  instructions: Instruction[];
  /** ARGs declared before the first FROM, with their defaults */
  globalArgs: Map<string, string | undefined>;
  stages: Stage[];
}

/** Splits shell-like words: whitespace separates, quotes group, backslash escapes. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < text.length) word = (word ?? "") + text[++i];
      else word = (word ?? "") + c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word = word ?? "";
    } else if (c === "\\" && i + 1 < text.length) {
      word = (word ?? "") + text[++i];
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} in: ${text}`);
  if (word !== undefined) words.push(word);
  return words;
}

/** Substitutes `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:+alt}` from `vars` (unset: empty). */
function expandVars(text: string, vars: ReadonlyMap<string, string | undefined>): string {
  return text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, braced: string | undefined, op: string | undefined, word: string | undefined, bare: string | undefined) => {
    const value = vars.get((braced ?? bare)!);
    if (op === "-") return value ? value : (word ?? "");
    if (op === "+") return value ? (word ?? "") : "";
    return value ?? "";
  });
}

const FLAGGED = new Set(["FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"]);

/** Parses Dockerfile text into instructions and stages. Heredocs are rejected, not half-read. */
function parseDockerfile(text: string, path = "Dockerfile"): Dockerfile {
  const lines = text.split(/\r?\n/);
  let escape = "\\";
  // Parser directives: only at the very top, before any comment, blank line or instruction.
  for (const line of lines) {
    const m = /^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(line);
    if (!m) break;
    if (m[1]!.toLowerCase() === "escape") escape = m[2]!;
  }
  const instructions: Instruction[] = [];
  let buffer: string[] = [];
  let start = 0;
  const flush = (): void => {
    const joined = buffer.join(" ").trim();
    buffer = [];
    if (!joined) return;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(joined)!;
    const keyword = m[1]!.toUpperCase();
    let rest = m[2]!;
    if (/<<-?\s*["']?[A-Za-z_]/.test(rest) && (keyword === "RUN" || keyword === "COPY" || keyword === "ADD")) {
      throw new Error(`${path}:${start}: heredocs are not supported by this parser`);
    }
    const flags: Record<string, string> = {};
    if (FLAGGED.has(keyword)) {
      for (;;) {
        const f = /^--([a-zA-Z-]+)(?:=(\S*))?\s+/.exec(rest);
        if (!f) break;
        flags[f[1]!] = f[2] ?? "";
        rest = rest.slice(f[0].length);
      }
    }
    const inst: Instruction = { keyword, args: rest.trim(), flags, line: start };
    const execText = keyword === "HEALTHCHECK" ? inst.args.replace(/^CMD\s+/i, "") : inst.args;
    if (execText.startsWith("[")) {
      try {
        const parsed: unknown = JSON.parse(execText);
        if (Array.isArray(parsed) && parsed.every((x) => typeof x === "string")) inst.exec = parsed;
      } catch {
        // not JSON: shell form that happens to start with "["
      }
    }
    instructions.push(inst);
  };
  lines.forEach((raw, i) => {
    const trimmed = raw.trim();
    // Comments and blank lines are dropped, also inside a continuation (as Docker does).
    if (!trimmed || trimmed.startsWith("#")) return;
    if (buffer.length === 0) start = i + 1;
    const continued = trimmed.endsWith(escape);
    buffer.push(continued ? trimmed.slice(0, -escape.length).trimEnd() : trimmed);
    if (!continued) flush();
  });
  if (buffer.length > 0) throw new Error(`${path}: the last instruction ends with a line continuation`);

  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  for (const inst of instructions) {
    if (inst.keyword === "FROM") {
      const words = shellWords(inst.args);
      const asAt = words.findIndex((w) => w.toUpperCase() === "AS");
      const imageRaw = words[0] ?? "";
      const stage: Stage = { index: stages.length, from: inst, imageRaw, image: expandVars(imageRaw, globalArgs), instructions: [] };
      if (asAt > 0) stage.name = words[asAt + 1];
      stages.push(stage);
    } else if (stages.length === 0) {
      if (inst.keyword !== "ARG") throw new Error(`${path}:${inst.line}: only ARG may come before the first FROM, got ${inst.keyword}`);
      for (const decl of shellWords(inst.args)) {
        const eq = decl.indexOf("=");
        if (eq < 0) globalArgs.set(decl, undefined);
        else globalArgs.set(decl.slice(0, eq), decl.slice(eq + 1));
      }
    } else {
      stages[stages.length - 1]!.instructions.push(inst);
    }
  }
  return { path, instructions, globalArgs, stages };
}

/** `KEY=value KEY2="v 2"` (ENV, LABEL, ARG) as pairs; the legacy `ENV KEY value` form too. */
function keyValues(inst: Instruction): Array<[string, string | undefined]> {
  const words = shellWords(inst.args);
  if (inst.keyword === "ENV" && words.length >= 2 && !words[0]!.includes("=")) return [[words[0]!, words.slice(1).join(" ")]];
  return words.map((w) => {
    const eq = w.indexOf("=");
    return eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** The ARG defaults visible in a stage: global ones it re-declares, plus its own. */
function stageArgs(df: Dockerfile, stage: Stage): Map<string, string | undefined> {
  const vars = new Map<string, string | undefined>();
  for (const inst of stage.instructions.filter((x) => x.keyword === "ARG")) {
    for (const [k, v] of keyValues(inst)) vars.set(k, v ?? df.globalArgs.get(k));
  }
  return vars;
}

const of = (stage: Stage, keyword: string): Instruction[] => stage.instructions.filter((i) => i.keyword === keyword);
const last = <T>(xs: readonly T[]): T | undefined => xs[xs.length - 1];

/** Is an image reference pinned to a version (a tag with a digit that is not `latest`, or a digest)? */
function pinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  if (colon <= slash) return false;
  const tag = image.slice(colon + 1);
  return tag !== "latest" && !/(^|-)latest$/.test(tag) && /\d/.test(tag) && !tag.includes("$");
}

const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_?KEY)/i;

/**
 * The rules every Dockerfile here follows; hadolint's code where one exists. Returns the
 * problems, one line each, so a failure shows all of them.
 */
function lint(df: Dockerfile): string[] {
  const problems: string[] = [];
  const at = (inst: Instruction, msg: string): void => void problems.push(`${df.path}:${inst.line}: ${msg}`);
  const names = new Set<string>();
  df.stages.forEach((stage) => {
    const from = stage.from;
    if (stage.image.includes("$")) at(from, `DL3006: FROM ${stage.imageRaw}: the variable has no default before the first FROM`);
    else if (!names.has(stage.image) && !pinned(stage.image)) at(from, `DL3006/DL3007: FROM ${stage.image} is not pinned to a version`);
    if (stage.name) {
      if (names.has(stage.name)) at(from, `DL3024: stage name ${stage.name} is used twice`);
      names.add(stage.name);
    }
    let workdir = false;
    for (const inst of stage.instructions) {
      switch (inst.keyword) {
        case "MAINTAINER":
          at(inst, "DL4000: MAINTAINER is deprecated (use a LABEL)");
          break;
        case "ADD":
          at(inst, /\bhttps?:\/\//.test(inst.args) ? "DL3020: ADD of a URL (download in a RUN and verify it, or COPY)" : "DL3020: use COPY, not ADD");
          break;
        case "CMD":
        case "ENTRYPOINT":
          if (!inst.exec) at(inst, `DL3025: ${inst.keyword} must be in exec (JSON array) form`);
          break;
        case "HEALTHCHECK":
          if (!/^NONE$/i.test(inst.args) && !inst.exec) at(inst, "HEALTHCHECK CMD must be in exec (JSON array) form");
          break;
        case "WORKDIR":
          if (!inst.args.startsWith("/") && !inst.args.startsWith("$")) at(inst, "DL3000: WORKDIR must be absolute");
          workdir = true;
          break;
        case "COPY": {
          const from = inst.flags.from;
          if (from !== undefined && !names.has(from) && !(/^\d+$/.test(from) && Number(from) < stage.index)) {
            at(inst, `DL3022: COPY --from=${from} names no earlier stage`);
          }
          if (from === stage.name) at(inst, `DL3023: COPY --from=${from} names its own stage`);
          const dest = last(shellWords(inst.args)) ?? "";
          if (!workdir && !dest.startsWith("/")) at(inst, `DL3045: COPY to the relative ${dest} without a WORKDIR`);
          break;
        }
        case "ENV":
        case "ARG":
          for (const [k, v] of keyValues(inst)) {
            if (SECRET_NAME.test(k) && v) at(inst, `${inst.keyword} ${k} holds a secret: pass it at run time`);
            if (v && /:\/\/[^/\s:@]+:[^@\s]+@/.test(v)) at(inst, `${inst.keyword} ${k} holds credentials in a URL`);
          }
          break;
        case "USER":
          break;
        case "RUN": {
          const cmd = inst.exec ? inst.exec.join(" ") : inst.args;
          if (/(^|[;&|]\s*)sudo\s/.test(cmd)) at(inst, "DL3004: do not use sudo");
          if (/(^|[;&|]\s*)cd\s/.test(cmd)) at(inst, "DL3003: use WORKDIR to change directory");
          if (/\bapt\s+(install|update|upgrade)\b/.test(cmd)) at(inst, "DL3027: use apt-get, not apt");
          if (/\bapt-get\s+(-\S+\s+)*install\b/.test(cmd)) {
            if (!/--no-install-recommends/.test(cmd)) at(inst, "DL3015: apt-get install without --no-install-recommends");
            if (!/\s-y\b|--yes|--assume-yes/.test(cmd)) at(inst, "DL3014: apt-get install without -y");
            if (!/rm -rf \/var\/lib\/apt\/lists/.test(cmd)) at(inst, "DL3009: delete /var/lib/apt/lists in the same RUN");
            if (!/apt-get\s+update/.test(cmd)) at(inst, "apt-get install without apt-get update in the same RUN (stale lists from a cached layer)");
          }
          if (/\bapt-get\s+update\b/.test(cmd) && !/\bapt-get\s+(-\S+\s+)*install\b/.test(cmd)) at(inst, "DL3009: apt-get update alone in a RUN");
          for (const m of cmd.matchAll(/\bnpm\s+(?:i|install)\s+(?:-g|--global)\s+(\S+)/g)) {
            if (!/@\S*\d|@["']?\$\{?[A-Z_]+/.test(m[1]!)) at(inst, `DL3016: npm install -g ${m[1]} without a version`);
          }
          if (/\bcorepack\b/.test(cmd)) at(inst, "pnpm comes from npm install -g, as the README installs it, not corepack");
          if (/\b(curl|wget)\b[^|;&]*\|\s*(ba)?sh\b/.test(cmd)) at(inst, "piping a download into a shell");
          break;
        }
        case "EXPOSE":
          for (const p of shellWords(inst.args)) {
            const port = Number(p.replace(/\/(tcp|udp)$/, ""));
            if (!Number.isInteger(port) || port < 1 || port > 65535) at(inst, `DL3011: EXPOSE ${p} is not a valid port`);
          }
          break;
        default:
          break;
      }
    }
    // Every variable a RUN/COPY uses should be declared in the stage (ARG/ENV) or be the
    // shell's own (loop variables, lower case): a global ARG is invisible unless re-declared.
    const declared = new Set<string>([...stageArgs(df, stage).keys()]);
    for (const inst of stage.instructions.filter((i) => i.keyword === "ENV")) for (const [k] of keyValues(inst)) declared.add(k);
    for (const inst of stage.instructions.filter((i) => i.keyword === "RUN" || i.keyword === "LABEL" || i.keyword === "COPY")) {
      for (const m of inst.args.matchAll(/\$\{?([A-Z_][A-Z0-9_]*)/g)) {
        if (!declared.has(m[1]!) && df.globalArgs.has(m[1]!)) at(inst, `global ARG ${m[1]} is used in a stage without being re-declared there (it is empty)`);
      }
    }
  });
  const users = df.stages.length ? of(last(df.stages)!, "USER") : [];
  const user = last(users);
  if (user && /^(root|0)(:|$)/.test(user.args)) at(user, "DL3002: the last USER is root");
  return problems;
}

/** Shell-form RUNs that /bin/sh (dash, as in the Debian/Ubuntu bases) cannot parse: `sh -n`. */
function shellSyntaxErrors(df: Dockerfile): string[] {
  return df.instructions
    .filter((i) => i.keyword === "RUN" && !i.exec)
    .flatMap((i) => {
      const res = spawnSync("/bin/sh", ["-n", "-c", i.args], { encoding: "utf8", timeout: 10_000 });
      return res.status === 0 ? [] : [`${df.path}:${i.line}: ${res.stderr.trim()}`];
    });
}

const loadDockerfile = (rel: string): Dockerfile => parseDockerfile(readFileSync(join(DOCKER_DIR, rel), "utf8"), `docker/${rel}`);
const runs = (stage: Stage): string[] => of(stage, "RUN").map((i) => i.args);

// ---------------------------------------------------------------------------------------------

describe("the Dockerfile parser", () => {
  it("joins continuation lines, drops comments inside them, reads flags and the exec form", () => {
    const df = parseDockerfile(
      [
        "# escape=\\",
        "ARG A=1 B",
        "",
        "FROM --platform=linux/amd64 img:${A}.0 AS one",
        "RUN echo a \\",
        "# a comment inside the continuation",
        "    && echo b",
        'COPY --from=one --chown=1:1 /x "/y z"',
        'HEALTHCHECK --interval=5s CMD ["a", "b"]',
        'CMD ["x"]',
        "ENTRYPOINT x y",
        'LABEL k="v w" k2=z',
      ].join("\n"),
    );
    expect(df.globalArgs).toEqual(new Map([["A", "1"], ["B", undefined]]));
    expect(df.stages.map((s) => [s.name, s.image])).toEqual([["one", "img:1.0"]]);
    const [run, copy, hc, cmd, ep, label] = df.stages[0]!.instructions;
    expect(run).toMatchObject({ keyword: "RUN", args: "echo a && echo b", line: 5 });
    expect(copy).toMatchObject({ flags: { from: "one", chown: "1:1" }, args: '/x "/y z"' });
    expect(hc).toMatchObject({ flags: { interval: "5s" }, exec: ["a", "b"] });
    expect(cmd!.exec).toEqual(["x"]);
    expect(ep!.exec).toBeUndefined();
    expect(keyValues(label!)).toEqual([["k", "v w"], ["k2", "z"]]);
  });

  it("expands ARG references and rejects what it cannot read", () => {
    const vars = new Map<string, string | undefined>([["V", "20.1"], ["E", ""]]);
    expect(expandVars("node:${V}-slim $V ${E:-dflt} ${V:+set} ${NOPE}", vars)).toBe("node:20.1-slim 20.1 dflt set ");
    expect(() => parseDockerfile("FROM a:1\nRUN <<EOF\necho\nEOF\n")).toThrow(/heredoc/);
    expect(() => parseDockerfile("RUN true\nFROM a:1\n")).toThrow(/only ARG/);
    expect(() => parseDockerfile("FROM a:1\nRUN echo \\\n")).toThrow(/continuation/);
    expect(shellSyntaxErrors(parseDockerfile("FROM a:1\nRUN if true; then echo \\\n  && true\n", "bad"))).toEqual([expect.stringMatching(/^bad:2: /)]);
  });

  it("lints what it should: unpinned images, ADD of a URL, shell-form CMD, secrets, root, unknown stages", () => {
    const bad = parseDockerfile(
      [
        "FROM node AS a",
        "FROM debian:latest",
        "ADD https://example.invalid/x.tgz /x",
        "ENV DB_PASSWORD=hunter2 URL=postgres://u:p@h/db",
        "COPY --from=nowhere /a /b",
        "RUN apt-get install python3",
        "CMD healthcheck status",
        "USER root",
      ].join("\n"),
      "bad",
    );
    const problems = lint(bad).join("\n");
    for (const code of ["DL3006/DL3007: FROM node ", "DL3006/DL3007: FROM debian:latest", "DL3020: ADD of a URL", "ENV DB_PASSWORD holds a secret",
      "ENV URL holds credentials", "DL3022", "DL3015", "DL3009", "DL3025", "DL3002"]) {
      expect(problems).toContain(code);
    }
    expect(pinned("postgres:16.10-bookworm")).toBe(true);
    expect(pinned("localhost:5000/x")).toBe(false);
    expect(pinned(`x@sha256:${"a".repeat(64)}`)).toBe(true);
  });
});

describe("docker/Dockerfile (the healthcheck image)", () => {
  const df = loadDockerfile("Dockerfile");
  const build = df.stages.find((s) => s.name === "build")!;
  const runtime = last(df.stages)!;

  it("passes the lint, and every RUN is valid shell", () => {
    expect(lint(df)).toEqual([]);
    expect(shellSyntaxErrors(df)).toEqual([]);
  });

  it("has a build stage and a runtime stage, both on a pinned Node.js 20 slim Debian image", () => {
    expect(df.stages.map((s) => s.name)).toEqual(["build", "runtime"]);
    for (const stage of df.stages) expect(stage.image).toMatch(/^node:20\.\d+\.\d+-bookworm-slim$/);
    const [major, minor] = df.globalArgs.get("NODE_VERSION")!.split(".").map(Number);
    // package.json's engines: node >=20.12
    expect(major).toBe(20);
    expect(minor).toBeGreaterThanOrEqual(12);
  });

  it("builds like the README: npm install -g pnpm@<packageManager>, frozen lockfile, pnpm build, then pnpm deploy", () => {
    expect(stageArgs(df, build).get("PNPM_VERSION")).toBe(PNPM_VERSION);
    const steps = runs(build);
    const index = (re: RegExp): number => steps.findIndex((s) => re.test(s));
    const apt = steps[index(/apt-get install/)]!;
    for (const pkg of ["python3", "make", "g++"]) expect(shellWords(apt)).toContain(pkg);
    const order = [/npm install -g "?pnpm@\$\{PNPM_VERSION\}/, /\bpnpm fetch\b/, /pnpm install --frozen-lockfile\b/, /^pnpm build$/, /pnpm deploy --filter @alfred\/healthcheck --prod \/out\b/].map(index);
    expect(order.every((i) => i >= 0), `steps: ${JSON.stringify(steps)}`).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The lockfile alone before `pnpm fetch`; the sources only after it.
    const copies = of(build, "COPY").map((c) => c.args);
    expect(copies).toEqual(["pnpm-lock.yaml pnpm-workspace.yaml ./", ". ."]);
    expect(stageArgs(df, build).get("HEALTHCHECK_DRIVERS")).toBe("postgres mysql sqlite");
  });

  it("ships only /out, as a non-root user (uid 10001), with healthcheck on PATH", () => {
    const copies = of(runtime, "COPY");
    expect(copies.map((c) => [c.flags.from, c.args])).toEqual([["build", "/out /app"]]);
    expect(last(of(runtime, "USER"))!.args).toBe("10001:10001");
    expect(runs(runtime).join("\n")).toMatch(/useradd [^\n]*--uid 10001\b/);
    expect(runs(runtime).join("\n")).toContain("ln -s /app/dist/cli.cjs /usr/local/bin/healthcheck");
    // the USER comes after everything that needs root
    const userAt = runtime.instructions.findIndex((i) => i.keyword === "USER");
    expect(runtime.instructions.slice(userAt).filter((i) => i.keyword === "RUN" || i.keyword === "COPY")).toEqual([]);
  });

  it("exposes 9091, runs healthcheck in exec form and checks itself with `healthcheck status`", () => {
    expect(of(runtime, "EXPOSE").flatMap((i) => shellWords(i.args))).toEqual(["9091"]);
    expect(last(of(runtime, "ENTRYPOINT"))!.exec).toEqual(["healthcheck"]);
    // Empty: a listen flag would win over DB_HEALTH_LISTEN; the node base's CMD must not leak in.
    expect(last(of(runtime, "CMD"))!.exec).toEqual([]);
    expect(last(of(runtime, "HEALTHCHECK"))!.exec).toEqual(["healthcheck", "status"]);
  });

  it("carries the OCI labels, with the version of @alfred/healthcheck", () => {
    const labels = new Map(of(runtime, "LABEL").flatMap(keyValues).map(([k, v]) => [k, expandVars(v ?? "", stageArgs(df, runtime))]));
    for (const key of ["title", "description", "version", "revision", "licenses", "vendor", "base.name"]) {
      expect(labels.get(`org.opencontainers.image.${key}`), key).toBeTruthy();
    }
    expect(labels.get("org.opencontainers.image.version")).toBe(HEALTHCHECK_VERSION);
    expect(labels.get("org.opencontainers.image.licenses")).toBe(readJson(join(ROOT, "apps/healthcheck/package.json")).license);
    expect(labels.get("org.opencontainers.image.base.name")).toBe(`docker.io/library/${runtime.image}`);
  });

  it("has a .dockerignore at the root of its build context that keeps local state out", () => {
    const ignore = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n").map((l) => l.trim());
    for (const entry of [".git", "**/node_modules", "**/dist", "**/.turbo", ".data", "docker"]) expect(ignore).toContain(entry);
    // …and keeps in what the build stage COPYs by name
    for (const file of ["pnpm-lock.yaml", "pnpm-workspace.yaml", "package.json"]) expect(ignore.some((l) => l === file || l === `/${file}`)).toBe(false);
  });
});

const WRAPS = [
  { dir: "postgres", base: /^postgres:16\.\d+-bookworm$/, ports: ["5432", "9091"], server: "postgres", stopsignal: "SIGINT" },
  { dir: "mariadb", base: /^mariadb:11\.4\.\d+-noble$/, ports: ["3306", "9091"], server: "mariadbd", stopsignal: undefined },
  { dir: "mysql", base: /^mysql:8\.4\.\d+-oraclelinux9$/, ports: ["3306", "9091"], server: "mysqld", stopsignal: undefined },
] as const;

describe.each(WRAPS.map((w) => [w.dir, w] as const))("docker/%s/Dockerfile (the wrap pattern)", (_, { dir, base, ports, server, stopsignal }) => {
  const df = loadDockerfile(`${dir}/Dockerfile`);
  const final = last(df.stages)!;

  it("passes the lint, and every RUN is valid shell", () => {
    expect(lint(df)).toEqual([]);
    expect(shellSyntaxErrors(df)).toEqual([]);
  });

  it(`is FROM the healthcheck image AS healthcheck, then FROM a pinned ${dir} image`, () => {
    expect(df.stages.map((s) => [s.name, s.image])).toEqual([
      ["healthcheck", HEALTHCHECK_IMAGE],
      [dir, expect.stringMatching(base)],
    ]);
  });

  it("copies node and the deployed CLI from the healthcheck image, where they are", () => {
    const copies = of(final, "COPY").map((c) => [c.flags.from, c.args]);
    expect(copies).toEqual([
      ["healthcheck", "/usr/local/bin/node /usr/local/bin/node"],
      ["healthcheck", "/app /app"],
    ]);
    // …and the healthcheck image has them there: node from its node base, /app from its COPY.
    const image = last(loadDockerfile("Dockerfile").stages)!;
    expect(image.image).toMatch(/^node:/);
    expect(of(image, "COPY").map((c) => shellWords(c.args)[1])).toContain("/app");
    expect(runs(final).join("\n")).toContain("ln -s /app/dist/cli.cjs /usr/local/bin/healthcheck");
  });

  it(`exposes ${ports.join(" and ")} and wraps docker-entrypoint.sh ${server}`, () => {
    expect(of(final, "EXPOSE").flatMap((i) => shellWords(i.args))).toEqual(ports);
    // No --export-prom: it would win over DB_HEALTH_LISTEN (the daemon's default is :9091).
    expect(last(of(final, "CMD"))!.exec).toEqual(["healthcheck", "--", "docker-entrypoint.sh", server]);
    expect(last(of(final, "HEALTHCHECK"))!.exec).toEqual(["healthcheck", "status"]);
    expect(of(final, "STOPSIGNAL").map((i) => i.args)).toEqual(stopsignal ? [stopsignal] : []);
    // The official entrypoint stays and must start as root (it drops privileges itself).
    expect(of(final, "ENTRYPOINT")).toEqual([]);
    expect(of(final, "USER")).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// docker-compose.db.yml
// ---------------------------------------------------------------------------------------------

interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string; args?: Record<string, string> };
  command?: string[] | string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[] | string };
}
interface Compose {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const COMPOSE_PATH = join(DOCKER_DIR, "docker-compose.db.yml");
const compose = parseYaml(readFileSync(COMPOSE_PATH, "utf8")) as Compose;
/** Bind mounts of a service: [source relative to the repo, target in the container]. */
const binds = (svc: ComposeService): Array<[string, string]> =>
  (svc.volumes ?? [])
    .map((v) => v.split(":"))
    .filter(([src]) => src!.startsWith(".") || src!.startsWith("/"))
    .map(([src, target]) => [relative(ROOT, resolve(DOCKER_DIR, src!)), target!]);
/** Where a repository path appears inside a service's container, if it is mounted. */
const inContainer = (svc: ComposeService, repoPath: string): string | undefined => {
  for (const [src, target] of binds(svc)) {
    if (repoPath === src) return target;
    if (repoPath.startsWith(`${src}/`)) return posix.join(target, repoPath.slice(src.length + 1));
  }
  return undefined;
};
/** The repository path behind a container path, if a bind mount provides it. */
const inRepo = (svc: ComposeService, containerPath: string): string | undefined => {
  for (const [src, target] of binds(svc)) {
    if (containerPath === target) return src;
    if (containerPath.startsWith(`${target}/`)) return posix.join(src, containerPath.slice(target.length + 1));
  }
  return undefined;
};

describe("docker/docker-compose.db.yml", () => {
  const services = compose.services;

  it("has the original's services: postgres, mysql, healthcheck, prometheus, grafana", () => {
    expect(Object.keys(services).sort()).toEqual(["grafana", "healthcheck", "mysql", "postgres", "prometheus"]);
  });

  it("pins every image to a version, the databases to the wrap images' bases", () => {
    for (const [name, svc] of Object.entries(services)) expect(pinned(svc.image ?? ""), `${name}: ${svc.image}`).toBe(true);
    expect(services.healthcheck!.image).toBe(HEALTHCHECK_IMAGE);
    expect(services.postgres!.image).toBe(last(loadDockerfile("postgres/Dockerfile").stages)!.image);
    expect(services.mysql!.image).toBe(last(loadDockerfile("mariadb/Dockerfile").stages)!.image);
  });

  it("gives every service an exec-form health check, healthcheck's own being `healthcheck status`", () => {
    for (const [name, svc] of Object.entries(services)) {
      const test = svc.healthcheck?.test;
      expect(Array.isArray(test) && test[0] === "CMD", `${name}: ${JSON.stringify(test)}`).toBe(true);
    }
    expect(services.healthcheck!.healthcheck!.test).toEqual(["CMD", "healthcheck", "status"]);
  });

  it("publishes ports on loopback only and names only declared volumes and services", () => {
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    for (const [name, svc] of Object.entries(services)) {
      for (const p of svc.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      for (const v of svc.volumes ?? []) {
        const src = v.split(":")[0]!;
        if (!src.startsWith(".") && !src.startsWith("/")) expect(declared.has(src), `${name}: volume ${src}`).toBe(true);
      }
      for (const dep of Object.keys(svc.depends_on ?? {})) expect(Object.keys(services)).toContain(dep);
    }
  });

  it("mounts files and directories that exist in the repository", () => {
    const mounts = Object.values(services).flatMap(binds);
    expect(mounts.map(([src]) => src).sort()).toEqual([
      "docker/grafana/dashboards",
      "docker/grafana/provisioning",
      "docker/prometheus/prometheus.yml",
      "docker/prometheus/rules",
    ]);
    for (const [src, target] of mounts) {
      expect(existsSync(join(ROOT, src)), `${src} (mounted at ${target}) is missing`).toBe(true);
      expect(statSync(join(ROOT, src)).isDirectory(), `${src}: a directory iff ${target} has no extension`).toBe(!/\.\w+$/.test(target));
    }
    for (const f of ["docker/prometheus/rules/database_alerts.yml", "docker/grafana/provisioning/datasources/prometheus.yml",
      "docker/grafana/provisioning/dashboards/db-health.yml", "docker/grafana/dashboards/db-health.json"]) {
      expect(Object.values(services).some((s) => inContainer(s, f) !== undefined), `${f} is not mounted`).toBe(true);
      expect(existsSync(join(ROOT, f)), `${f} is missing`).toBe(true);
    }
  });

  it("builds the healthcheck service from docker/Dockerfile with build args it declares", () => {
    const { build } = services.healthcheck!;
    const context = resolve(DOCKER_DIR, build!.context!);
    expect(context).toBe(ROOT);
    expect(join(context, build!.dockerfile!)).toBe(join(DOCKER_DIR, "Dockerfile"));
    const df = loadDockerfile("Dockerfile");
    const args = new Set(df.stages.flatMap((s) => [...stageArgs(df, s).keys()]).concat([...df.globalArgs.keys()]));
    for (const arg of Object.keys(build!.args ?? {})) expect(args.has(arg), arg).toBe(true);
  });

  it("points the exporter at the compose services, and the CLI accepts its command line", () => {
    const svc = services.healthcheck!;
    const command = svc.command as string[];
    const dsns = command.filter((_, i) => command[i - 1] === "--dsn");
    expect(dsns).toHaveLength(2);
    for (const dsn of dsns) {
      const host = /@(?:tcp\()?([^:/)]+)/.exec(dsn)![1]!;
      expect(Object.keys(services), dsn).toContain(host);
      expect(dsn, "passwords come from PGPASSWORD/MYSQL_PWD").not.toMatch(/:\/\/[^@/]*:[^@/]*@/);
    }
    const dir = mkdtempSync(join(tmpdir(), "dbh-compose-"));
    try {
      const config = join(dir, "empty.yaml");
      writeFileSync(config, "{}\n");
      const res = spawnSync(process.execPath, [join(ROOT, "apps/healthcheck/dist/cli.cjs"), "config", "check", config, ...command], {
        encoding: "utf8",
        env: { PATH: process.env.PATH, ...svc.environment },
        timeout: 30_000,
      });
      expect(res.status, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/configuration is valid: 2 target\(s\): postgres, mysql/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("agrees with the Prometheus and Grafana files it mounts", () => {
    const prom = services.prometheus!;
    const promConfigPath = inRepo(prom, "/etc/prometheus/prometheus.yml")!;
    expect(promConfigPath).toBe("docker/prometheus/prometheus.yml");
    const promConfig = parseYaml(readFileSync(join(ROOT, promConfigPath), "utf8")) as {
      rule_files?: string[];
      scrape_configs?: Array<{ static_configs?: Array<{ targets?: string[] }>; relabel_configs?: Array<{ replacement?: string; target_label?: string }> }>;
    };
    // Rule files: each glob, seen from /etc/prometheus, matches only rule files (not promtool tests).
    const ruleGlobs = promConfig.rule_files ?? [];
    expect(ruleGlobs.length).toBeGreaterThan(0);
    for (const glob of ruleGlobs) {
      const inside = posix.resolve("/etc/prometheus", glob);
      const repoGlob = inRepo(prom, inside);
      expect(repoGlob, `${glob} is not mounted`).toBeDefined();
      const re = new RegExp(`^${posix.basename(repoGlob!).replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]")}$`);
      const matched = readdirSync(join(ROOT, posix.dirname(repoGlob!))).filter((f) => re.test(f));
      expect(matched.length, `${glob} matches no file`).toBeGreaterThan(0);
      for (const f of matched) {
        const doc = parseYaml(readFileSync(join(ROOT, posix.dirname(repoGlob!), f), "utf8")) as Record<string, unknown>;
        expect(Object.keys(doc), `${glob} matches ${f}, which is not a rule file`).toEqual(["groups"]);
      }
    }
    // Scrape targets and relabelled addresses name compose services (or Prometheus itself).
    const hosts = (promConfig.scrape_configs ?? []).flatMap((sc) => [
      ...(sc.static_configs ?? []).flatMap((s) => s.targets ?? []),
      ...(sc.relabel_configs ?? []).filter((r) => r.target_label === "__address__" && r.replacement).map((r) => r.replacement!),
    ]);
    const addresses = hosts.filter((h) => /^[\w.-]+:\d+$/.test(h));
    expect(addresses.length).toBeGreaterThan(0);
    for (const a of addresses) expect([...Object.keys(services), "localhost", "127.0.0.1"], a).toContain(a.split(":")[0]);
    expect(addresses).toContain("healthcheck:9091");
    // /probe jobs list target names: each must be a --name the exporter has.
    const command = services.healthcheck!.command as string[];
    const names = command.filter((_, i) => command[i - 1] === "--name");
    const probeJobs = (promConfig.scrape_configs ?? []).filter((sc) => (sc as { metrics_path?: string }).metrics_path === "/probe");
    for (const job of probeJobs) {
      for (const t of (job.static_configs ?? []).flatMap((s) => s.targets ?? [])) expect(names, `/probe?target=${t}`).toContain(t);
    }

    // Grafana: the datasource reaches the prometheus service, the dashboard provider reads the mounted dashboards.
    const graf = services.grafana!;
    const ds = parseYaml(readFileSync(join(ROOT, "docker/grafana/provisioning/datasources/prometheus.yml"), "utf8")) as { datasources: Array<{ type: string; url: string }> };
    const promDs = ds.datasources.find((d) => d.type === "prometheus")!;
    expect(new URL(promDs.url).host).toBe("prometheus:9090");
    const providers = parseYaml(readFileSync(join(ROOT, "docker/grafana/provisioning/dashboards/db-health.yml"), "utf8")) as { providers: Array<{ options?: { path?: string } }> };
    const paths = providers.providers.map((p) => p.options?.path).filter((p): p is string => Boolean(p));
    expect(paths.length).toBeGreaterThan(0);
    for (const p of paths) {
      const repoPath = inRepo(graf, p);
      expect(repoPath, `provider path ${p} is not mounted`).toBeDefined();
      expect(readdirSync(join(ROOT, repoPath!)).filter((f) => f.endsWith(".json")).length, p).toBeGreaterThan(0);
    }
  });
});

/** `docker compose` (v2) or `docker-compose` (v1): both validate a file without an engine. */
const COMPOSE_CLI = ((): string[] | undefined => {
  for (const cmd of [["docker", "compose"], ["docker-compose"]]) {
    const res = spawnSync(cmd[0]!, [...cmd.slice(1), "version"], { encoding: "utf8", timeout: 20_000 });
    if (res.status === 0) return cmd;
  }
  return undefined;
})();
if (!COMPOSE_CLI) console.log("dockerfiles: `docker compose config` skipped: neither the compose plugin nor docker-compose is installed (Debian: apt-get install docker-compose)");

describe("docker/docker-compose.db.yml, read by Compose itself", () => {
  it.skipIf(!COMPOSE_CLI && !process.env.CI)("is valid for `docker compose config` (no engine needed)", () => {
    if (!COMPOSE_CLI) throw new Error("docker-compose is not installed: .ci/run installs Debian's docker-compose");
    const res = spawnSync(COMPOSE_CLI![0]!, [...COMPOSE_CLI!.slice(1), "-f", COMPOSE_PATH, "config", "-q"], { cwd: DOCKER_DIR, encoding: "utf8", timeout: 60_000 });
    expect(res.status, `${COMPOSE_CLI!.join(" ")}: ${res.stdout}${res.stderr}`).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// The deploy step, run as the Dockerfile runs it
// ---------------------------------------------------------------------------------------------

const DEPLOY_TIMEOUT = 180_000;
const DRIVERS = ["postgres", "mysql", "sqlite", "mssql"] as const;
/** Environment for the deployed CLI: nothing of the developer's database settings. */
const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(PG|MYSQL_|MARIADB_|POSTGRES_|DB_HEALTH_|NODE_PATH$|NODE_OPTIONS$)/.test(k)) env[k] = v;
  return { ...env, ...extra };
};

/** Every file and directory under `dir`, symlinks not followed. */
function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    out.push(path);
    if (entry.isDirectory()) walk(path, out);
  }
  return out;
}

describe("the image's deploy step, run against this workspace", () => {
  const df = loadDockerfile("Dockerfile");
  const build = df.stages.find((s) => s.name === "build")!;
  const deployRun = of(build, "RUN").find((i) => i.args.includes("pnpm deploy"))!;
  let dir = "";
  let out = "";
  let deploy: SpawnSyncReturns<string>;
  let files: string[] = [];
  const cli = (args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> =>
    spawnSync(process.execPath, [join(out, "dist/cli.cjs"), ...args], { cwd: dir, encoding: "utf8", env: cleanEnv(env), timeout: 60_000 });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "dbh-deploy-"));
    out = join(dir, "out");
    // The image runs `pnpm build` before deploying; the test task depends on the build of this
    // package's dependencies, which does not cover every driver: build what has no dist yet.
    for (const pkg of ["packages/core", "apps/healthcheck", ...DRIVERS.map((d) => `packages/driver-${d}`)]) {
      if (existsSync(join(ROOT, pkg, "dist"))) continue;
      const b = spawnSync("pnpm", ["--dir", join(ROOT, pkg), "run", "build"], { encoding: "utf8", timeout: 120_000 });
      if (b.status !== 0) throw new Error(`building ${pkg} failed:\n${b.stdout}\n${b.stderr}`);
    }
    // Exactly the Dockerfile's RUN (shell form: /bin/sh -c), with /out moved to a temporary
    // directory and every driver, mssql included, as `--build-arg HEALTHCHECK_DRIVERS=…` would.
    const script = deployRun.args.replace(/(?<![\w/])\/out(?=[/\s"']|$)/g, out);
    expect(script).not.toMatch(/(?<![\w/])\/out\b/);
    deploy = spawnSync("/bin/sh", ["-c", script], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, CI: "true", HEALTHCHECK_DRIVERS: DRIVERS.join(" ") },
      timeout: DEPLOY_TIMEOUT,
    });
    if (deploy.status === 0) files = walk(out);
  }, DEPLOY_TIMEOUT + 130_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("deploys the CLI and every driver", () => {
    expect(deploy.status, `${deploy.stdout}\n${deploy.stderr}`).toBe(0);
    expect(statSync(join(out, "dist/cli.cjs")).mode & 0o111).not.toBe(0);
    for (const d of DRIVERS) expect(existsSync(join(out, `node_modules/@alfred/db-health-driver-${d}/dist/index.js`)), d).toBe(true);
    expect(existsSync(join(out, "node_modules/@alfred/db-health-core/dist/index.js"))).toBe(true);
  });

  it("rejects a driver name it does not know", () => {
    const script = deployRun.args.replace(/(?<![\w/])\/out(?=[/\s"']|$)/g, join(dir, "bad-out"));
    const res = spawnSync("/bin/sh", ["-c", script], { cwd: ROOT, encoding: "utf8", env: { ...process.env, HEALTHCHECK_DRIVERS: "postgress" }, timeout: DEPLOY_TIMEOUT });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain("HEALTHCHECK_DRIVERS: unknown driver 'postgress'");
  }, DEPLOY_TIMEOUT);

  it("ships no devDependencies, no sources, nothing that points back into the workspace", () => {
    expect(files.length).toBeGreaterThan(100);
    const rel = files.map((f) => relative(out, f));
    const packageDirs = rel.filter((f) => /(^|\/)node_modules\/(@[^/]+\/)?[^/@.][^/]*$/.test(f)).map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(f)![1]!);
    expect(packageDirs).toEqual(expect.arrayContaining(["pg", "mysql2", "better-sqlite3", "mssql", "tedious", "prom-client", "pino", "@alfred/db-health-core"]));
    for (const dev of ["vitest", "@vitest/runner", "typescript", "testcontainers", "turbo", "@changesets/cli", "node-sql-parser", "@alfred/db-health-testkit", "@types/better-sqlite3", "@types/mssql", "@types/pg"]) {
      expect(packageDirs, dev).not.toContain(dev);
    }
    // Our own packages' files: the CLI at the top, the others below node_modules/@alfred/<pkg>.
    const own = rel.filter((f) => !f.includes("node_modules/") || /^@alfred\//.test(f.slice(f.lastIndexOf("node_modules/") + 13)));
    expect(own.filter((f) => f.startsWith("dist/")).length).toBeGreaterThan(10);
    expect(own.filter((f) => /(^|\/)(src|test|__fixtures__)(\/|$)/.test(f) || /\.test\.(js|ts)$/.test(f) || (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)))).toEqual([]);
    for (const f of files) {
      if (!lstatSync(f).isSymbolicLink()) continue;
      const target = realpathSync(f);
      expect(target.startsWith(`${realpathSync(out)}/`), `${relative(out, f)} -> ${target}`).toBe(true);
    }
    // better-sqlite3 keeps its addon, not its C sources and the compiler's leftovers
    const release = rel.filter((f) => /better-sqlite3\/build\/Release\/[^/]+$/.test(f));
    expect(release.map((f) => f.split("/").pop())).toEqual(["better_sqlite3.node"]);
    expect(rel.filter((f) => /node_modules\/better-sqlite3\/(deps|src)$/.test(f))).toEqual([]);
  });

  it("runs --once against SQLite", () => {
    const res = cli(["--once", "--dsn", `file:${join(dir, "x.db")}?mode=rwc`]);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^TARGET\s+ENGINE\s+ROLE\s+STATUS\s+CONNECT\s+PING\s+WRITE\s+READ\s+REASON\n/);
    expect(res.stdout).toMatch(/^sqlite\s+sqlite\s+primary\s+UP\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s*$/m);
  });

  const asRoot = process.getuid?.() === 0 && existsSync("/usr/bin/setpriv");
  it.runIf(asRoot)("runs as the image's user (uid 10001) from a tree owned by root", () => {
    // As in the image: /app belongs to root, `healthcheck` on PATH is a symlink to
    // /app/dist/cli.cjs (ENTRYPOINT ["healthcheck"]), the process is uid/gid 10001 with no groups.
    const bin = join(dir, "bin");
    const data = join(dir, "data");
    mkdirSync(bin);
    symlinkSync(join(out, "dist/cli.cjs"), join(bin, "healthcheck"));
    mkdirSync(data);
    chmodSync(data, 0o777);
    chmodSync(dir, 0o755);
    const env = cleanEnv();
    env.PATH = `${bin}:${env.PATH ?? "/usr/bin:/bin"}`;
    const res = spawnSync("/usr/bin/setpriv", ["--reuid=10001", "--regid=10001", "--clear-groups", "healthcheck", "--once", "--dsn", `file:${join(data, "u.db")}?mode=rwc`], {
      cwd: "/",
      encoding: "utf8",
      env,
      timeout: 60_000,
    });
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^sqlite\s+sqlite\s+primary\s+UP\s/m);
  });

  it("runs --once against PostgreSQL", () => {
    const res = cli(["--once", "--dsn", "postgres://postgres@127.0.0.1:5432/test"]);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^postgres\s+postgres\s+primary\s+UP\s/m);
  });

  it("runs --once against MariaDB", () => {
    const res = cli(["--once", "--dsn", "mysql://root@tcp(127.0.0.1:3306)/test"]);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^mysql\s+mysql\s+primary\s+UP\s/m);
  });

  it("loads the optional mssql driver (a closed port is down, not a missing driver)", () => {
    const res = cli(["--once", "--max-retries", "0", "--connect-timeout", "2s", "--dsn", "sqlserver://sa:x@127.0.0.1:1/master"]);
    expect(res.status, res.stderr).toBe(1);
    expect(res.stdout).toMatch(/^mssql\s+mssql\s+\S+\s+DOWN\s/m);
  });

  it("names the driver package to install when the image was built without it", () => {
    // As an image built with HEALTHCHECK_DRIVERS="postgres sqlite" would be: mysql's driver absent.
    const mysqlDir = join(out, "node_modules/@alfred/db-health-driver-mysql");
    const aside = join(dir, "driver-mysql-aside");
    renameSync(mysqlDir, aside);
    try {
      const res = cli(["--once", "--dsn", "mysql://app:Pa55w0rd!@tcp(db:3306)/shop", "--dsn", `file:${join(dir, "y.db")}?mode=rwc`]);
      expect(res.status).toBe(3);
      expect(res.stdout).toBe("");
      expect(res.stderr).toBe('healthcheck: invalid configuration:\n  --dsn #1: no driver for "mysql://app@db:3306/shop": install @alfred/db-health-driver-mysql\n');
    } finally {
      renameSync(aside, mysqlDir);
    }
  });

  it("finds the database from the official images' variables, as in the wrapped images", () => {
    // What docker/postgres/Dockerfile's container has: POSTGRES_* (this machine's server trusts local connections).
    const pg = cli(["--once"], { POSTGRES_USER: "postgres", POSTGRES_DB: "test" });
    expect(pg.status, pg.stderr).toBe(0);
    expect(pg.stdout).toMatch(/^postgres\s+postgres\s+primary\s+UP\s/m);
    // …and docker/mariadb/Dockerfile's: MARIADB_* (root without a password here).
    const maria = cli(["--once"], { MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: "1", MARIADB_DATABASE: "test" });
    expect(maria.status, maria.stderr).toBe(0);
    expect(maria.stdout).toMatch(/^mysql\s+mysql\s+primary\s+UP\s/m);
  });

  it("answers `healthcheck status` from a running daemon, as the HEALTHCHECK does", async () => {
    // The image's daemon listens where DB_HEALTH_LISTEN (or --export-prom) says, and the
    // HEALTHCHECK's plain `healthcheck status` asks that port; here a free one on loopback.
    const listen = `127.0.0.1:${await freePort()}`;
    const daemon = spawn(process.execPath, [join(out, "dist/cli.cjs"), "--interval", "500ms", "--dsn", `file:${join(dir, "d.db")}?mode=rwc`], {
      cwd: dir,
      env: cleanEnv({ DB_HEALTH_LISTEN: listen }),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    daemon.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
    try {
      const deadline = Date.now() + 20_000;
      let res = cli(["status"], { DB_HEALTH_LISTEN: listen });
      while (res.status !== 0 && daemon.exitCode === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        res = cli(["status"], { DB_HEALTH_LISTEN: listen });
      }
      expect(res.status, `${res.stdout}${res.stderr}\n${stderr}`).toBe(0);
      expect(res.stdout).toMatch(/^200 ready/);
    } finally {
      if (daemon.exitCode === null) {
        daemon.kill("SIGTERM");
        await new Promise((r) => daemon.once("exit", r));
      }
    }
    expect(daemon.exitCode).toBe(0);
  });
});
