// Steady HTTP load at a fixed rate with per-request latency: wrk (rate set by a Lua delay) when
// it is installed, otherwise a small open-loop generator in Node. Both report p50/p99 in ms.
import { execFile, execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { pct } from "./stats.mjs";

export function hasWrk() {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing its version
    return err.code !== "ENOENT" && err.status === 1;
  }
}

/**
 * `rps` requests a second to `url` for `seconds`, with extra request `headers` (e.g. the
 * `Accept-Encoding: gzip` Prometheus sends); resolves { tool, requests, errors, p50, p99, max } in ms.
 */
export function steadyLoad(url, { rps = 100, seconds = 10, wrk = hasWrk(), headers = {} } = {}) {
  return wrk ? wrkLoad(url, rps, seconds, headers) : nodeLoad(url, rps, seconds, headers);
}

function wrkLoad(url, rps, seconds, headers) {
  // Two connections, each waiting 2000/rps ms between requests: `rps` a second when answers are fast.
  const connections = 2;
  const script = join(tmpdir(), `dbh-bench-wrk-${process.pid}.lua`);
  writeFileSync(
    script,
    `function delay() return ${Math.round((1000 * connections) / rps)} end
done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %f %f %f\\n", summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end`,
  );
  return new Promise((resolve, reject) => {
    const h = Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
    execFile("wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, ...h, "-s", script, url], { timeout: (seconds + 30) * 1000 }, (err, stdout) => {
      rmSync(script, { force: true });
      const m = /BENCH (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)/.exec(stdout ?? "");
      if (!m) return reject(err ?? new Error(`wrk printed no summary: ${stdout}`));
      resolve({ tool: "wrk", requests: Number(m[1]), errors: Number(m[2]), p50: Number(m[3]), p99: Number(m[4]), max: Number(m[5]) });
    });
  });
}

function nodeLoad(url, rps, seconds, headers) {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const latencies = [];
  let errors = 0;
  let inflight = 0;
  return new Promise((resolve) => {
    const started = performance.now();
    let sent = 0;
    const tick = () => {
      const due = Math.floor(((performance.now() - started) / 1000) * rps);
      for (; sent < due && sent < rps * seconds; sent++) {
        const t0 = performance.now();
        inflight++;
        const req = request(url, { agent, headers }, (res) => {
          res.resume();
          res.on("end", () => {
            latencies.push(performance.now() - t0);
            if (res.statusCode !== 200) errors++;
            if (--inflight === 0 && sent >= rps * seconds) finish();
          });
        });
        req.on("error", () => {
          errors++;
          if (--inflight === 0 && sent >= rps * seconds) finish();
        });
        req.end();
      }
      if (sent < rps * seconds) setTimeout(tick, 2);
    };
    const finish = () => {
      agent.destroy();
      resolve({ tool: "node", requests: latencies.length, errors, p50: pct(latencies, 50), p99: pct(latencies, 99), max: Math.max(...latencies) });
    };
    tick();
  });
}

/**
 * Scrapes the way Prometheus does: each of `urls` once every `period` seconds, their starts
 * spread evenly over the period, for `seconds`, on keep-alive connections, with `headers` (e.g.
 * `Accept-Encoding: gzip`); resolves { tool, requests, errors, p50, p99, max } in ms.
 */
export function spreadScrapes(urls, { period = 15, seconds = 45, headers = {} } = {}) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const latencies = [];
  let errors = 0;
  const started = performance.now();
  const pending = [];
  const timers = [];
  for (let i = 0; i < urls.length; i++) {
    const offset = (i * period * 1000) / urls.length;
    for (let t = offset; t < seconds * 1000; t += period * 1000) {
      timers.push(
        setTimeout(() => {
          pending.push(
            new Promise((resolve) => {
              const t0 = performance.now();
              const req = request(urls[i], { agent, headers }, (res) => {
                res.resume();
                res.on("end", () => {
                  latencies.push(performance.now() - t0);
                  if (res.statusCode !== 200) errors++;
                  resolve();
                });
              });
              req.on("error", () => {
                errors++;
                resolve();
              });
              req.end();
            }),
          );
        }, Math.max(0, t - (performance.now() - started))),
      );
    }
  }
  return new Promise((resolve) => {
    setTimeout(async () => {
      await Promise.all(pending);
      agent.destroy();
      resolve({ tool: "node", requests: latencies.length, errors, p50: pct(latencies, 50), p99: pct(latencies, 99), max: Math.max(...latencies) });
    }, seconds * 1000 + 50);
  });
}
