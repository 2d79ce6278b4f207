import { describe, expect, it, vi } from "vitest";
import { DriverRegistry, driverRegistry } from "./registry.js";
import type { DriverDefinition } from "./driver-definition.js";

const def = (name: string, schemes: string[], packageName?: string): DriverDefinition => ({
  name,
  schemes,
  ...(packageName ? { packageName } : {}),
  createAdapter: () => {
    throw new Error("not used");
  },
});

describe("DriverRegistry", () => {
  it("resolves a DSN by its scheme, case-insensitively", () => {
    const r = new DriverRegistry();
    const pg = def("postgres", ["postgres", "postgresql"]);
    r.register(pg);
    expect(r.resolve("postgres://u@h/db")).toBe(pg);
    expect(r.resolve("POSTGRESQL://u@h/db")).toBe(pg);
    expect(r.list()).toEqual([pg]);
  });

  it("names the scheme and what is registered when no driver matches, without the password", () => {
    const r = new DriverRegistry();
    r.register(def("sqlite", ["file"]));
    expect(() => r.resolve("mysql://root:topsecret@db:3306/app")).toThrow(/no driver for "mysql:\/\/root@db:3306\/app" \(scheme "mysql"\); registered schemes: file/);
    try {
      r.resolve("mysql://root:topsecret@db:3306/app");
    } catch (err) {
      expect(String((err as Error).message)).not.toContain("topsecret");
    }
  });

  it("rejects two drivers claiming one scheme, naming both packages", () => {
    const r = new DriverRegistry();
    r.register(def("mysql", ["mysql", "mariadb"], "@alfred/db-health-driver-mysql"));
    expect(() => r.register(def("mariadb", ["mariadb"], "db-health-driver-mariadb"))).toThrow(
      'two drivers claim the DSN scheme "mariadb": "mysql" from @alfred/db-health-driver-mysql and "mariadb" from db-health-driver-mariadb; uninstall one of them',
    );
    // nothing of the rejected driver was registered
    expect(r.get("mariadb")?.name).toBe("mysql");
  });

  it("accepts the same driver twice (an entry module evaluated twice)", () => {
    const r = new DriverRegistry();
    r.register(def("sqlite", ["file"], "@alfred/db-health-driver-sqlite"));
    expect(() => r.register(def("sqlite", ["file"], "@alfred/db-health-driver-sqlite"))).not.toThrow();
  });

  it("validates definitions and lists every problem", () => {
    const r = new DriverRegistry();
    expect(() => r.register({ name: "Bad Name", schemes: [], createAdapter: undefined } as unknown as DriverDefinition)).toThrow(
      /name must be a lower-case identifier; schemes must list at least one DSN scheme; createAdapter must be a function/,
    );
  });

  it("treats two definitions without a package name as different drivers", () => {
    const r = new DriverRegistry();
    r.register(def("x", ["x"]));
    expect(() => r.register(def("x", ["x"]))).toThrow('two drivers claim the DSN scheme "x": "x" and "x"; uninstall one of them');
  });

  it("replaces a driver's schemes when it registers again", () => {
    const r = new DriverRegistry();
    const d = def("sqlite", ["file", "sqlite"], "@alfred/db-health-driver-sqlite");
    r.register(d);
    r.register({ ...d, schemes: ["file"] });
    expect(r.get("sqlite")).toBeUndefined();
    expect(r.get("file")?.schemes).toEqual(["file"]);
  });

  it("unregisters", () => {
    const r = new DriverRegistry();
    const d = def("x", ["x"]);
    r.register(d);
    r.unregister(d);
    expect(r.get("x")).toBeUndefined();
  });
});

describe("process-wide registry", () => {
  it("lives on globalThis under a Symbol.for key, so a second copy of core shares it", async () => {
    const key = Symbol.for("@alfred/db-health-core/registry/v1");
    expect((globalThis as Record<symbol, unknown>)[key]).toBe(driverRegistry);
    // A second copy of the module (fresh evaluation) finds the same instance.
    vi.resetModules();
    const copy = await import("./registry.js");
    expect(copy.driverRegistry).toBe(driverRegistry);
    expect(copy.DriverRegistry).not.toBe(DriverRegistry);
  });
});
