// A third-party style plugin for CLI tests: `hang://` targets whose connect never settles and
// ignores its signal, like a client stuck on a blackholed host. `hang://db/x?close=hang` also
// has a close() that never settles and keeps the process busy, like a client whose end() waits
// on a dead server's socket; `?close=linger` closes at once but leaves a handle behind, like a
// client library whose socket outlives its close().
import { registerDriver } from "@alfred/db-health-core";

registerDriver({
  name: "hang",
  packageName: "hang-driver-fixture",
  schemes: ["hang"],
  createAdapter: (target) => {
    const close = target.dsn.params?.close;
    return {
      connect: () => new Promise(() => undefined),
      ping: async () => undefined,
      role: async () => ({ role: "unknown", readOnly: false }),
      write: async () => undefined,
      read: async () => undefined,
      close: () => {
        if (close === "hang") return new Promise(() => setInterval(() => undefined, 1000));
        if (close === "linger") setInterval(() => undefined, 1000);
        return Promise.resolve();
      },
      destroy: () => undefined,
    };
  },
});
