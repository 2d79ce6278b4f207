import { describe, expect, it } from "vitest";
import { readProbeRequest } from "./probe-request.js";

const context = { targets: ["orders"], modules: ["pg", "maria"], timeoutOffsetMs: 500 };
const read = (query: string, headers = {}) => readProbeRequest(query, headers, context);

describe("readProbeRequest", () => {
  it("reads a configured target by name, or a module and a discovered target's address", () => {
    expect(read("target=orders")).toEqual({ target: "orders" });
    expect(read("module=pg&target=10.0.0.5:5432/app")).toEqual({ module: "pg", address: { kind: "ipv4", host: "10.0.0.5", port: 5432, database: "app", label: "10.0.0.5:5432/app" } });
    expect(read("target=%5Bfd00%3A%3A1%5D%3A5432&module=pg", { "x-prometheus-scrape-timeout-seconds": "3" })).toMatchObject({ module: "pg", address: { label: "[fd00::1]:5432" }, budget: { ms: 2500 } });
  });

  it("refuses with 400 and one line: unknown or repeated modules, missing or repeated targets, anything but an address, other parameters", () => {
    const cases: Array<[string, string]> = [
      ["module=nope&target=10.0.0.5:5432", 'unknown module "nope"; modules: pg, maria\n'],
      ["module=pg&module=maria&target=10.0.0.5:5432", "module given 2 times: /probe takes exactly one ?module=NAME\n"],
      ["module=pg", "missing target: /probe?module=pg takes exactly one &target=HOST:PORT or HOST:PORT/DB\n"],
      ["module=pg&target=a:1&target=b:2", "target given 2 times: /probe?module=pg takes exactly one &target=HOST:PORT or HOST:PORT/DB\n"],
      ["module=pg&target=10.0.0.5:5432&dsn=x", "unknown parameter dsn; /probe takes only ?target=NAME of a configured target, or ?module=NAME&target=HOST:PORT[/DB]; DSNs and credentials come from the configuration, never from the query string\n"],
      ["module=pg&target=10.0.0.5:5432&password=hunter2", "unknown parameter password; /probe takes only ?target=NAME of a configured target, or ?module=NAME&target=HOST:PORT[/DB]; DSNs and credentials come from the configuration, never from the query string\n"],
      ["target=10.0.0.5:5432", 'unknown target "10.0.0.5:5432"; valid targets: orders; a database address needs &module=NAME (modules: pg, maria)\n'],
    ];
    for (const [query, message] of cases) expect(read(query), query).toEqual({ status: 400, message });
  });

  it("never echoes a value shaped like a DSN or a password", () => {
    for (const query of ["module=pg&target=postgres%3A%2F%2Fu%3Ahunter2%40db%2Fx", "module=hunter2%40db&target=10.0.0.5:5432", "module=pg&target=u%3Ahunter2%40db%3A5432"]) {
      const r = read(query);
      expect(r, query).toHaveProperty("status", 400);
      expect(JSON.stringify(r)).not.toContain("hunter2");
    }
  });

  it("without modules, ?module= says how to configure them", () => {
    expect(readProbeRequest("module=pg&target=10.0.0.5:5432", {}, { targets: ["orders"], timeoutOffsetMs: 500 })).toEqual({
      status: 400,
      message: "no modules are configured: /probe?module= needs modules: in the configuration file (see docs/configuration.md, Discovered targets)\n",
    });
  });
});
