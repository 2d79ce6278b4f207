// A plugin whose adapter breaks the contract: read() returns a token it never stored.
import { registerDriver } from "@alfred/db-health-core";

registerDriver({
  name: "liar",
  packageName: "db-health-driver-liar",
  schemes: ["liar", "liar-role"],
  createAdapter: ({ dsn }) => ({
    connect: async () => undefined,
    ping: async () => undefined,
    role: async () => (dsn.scheme === "liar-role" ? { role: "leader" } : { role: "primary", readOnly: false }),
    write: async () => undefined,
    read: async () => "a-token-it-never-stored",
    close: async () => undefined,
  }),
});
