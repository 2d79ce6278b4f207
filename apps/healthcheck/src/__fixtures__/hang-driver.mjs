// A third-party style plugin for CLI tests: `hang://` targets whose connect never settles and
// ignores its signal, like a client stuck on a blackholed host.
import { registerDriver } from "@alfred/db-health-core";

registerDriver({
  name: "hang",
  packageName: "hang-driver-fixture",
  schemes: ["hang"],
  createAdapter: () => ({
    connect: () => new Promise(() => undefined),
    ping: async () => undefined,
    role: async () => ({ role: "unknown", readOnly: false }),
    write: async () => undefined,
    read: async () => undefined,
    close: async () => undefined,
    destroy: () => undefined,
  }),
});
