// A third-party plugin whose engine name is not its DSN schemes: "acme" serves acmedb:// and
// acme2://. Its targets are named after the engine (acme, acme-2), as the README says.
import { registerDriver } from "@alfred/db-health-core";

registerDriver({
  name: "acme",
  packageName: "db-health-driver-acme",
  schemes: ["acmedb", "acme2"],
  createAdapter: () => {
    let token;
    return {
      connect: async () => undefined,
      ping: async () => undefined,
      role: async () => ({ role: "primary", readOnly: false }),
      write: async (t) => void (token = t),
      read: async () => token,
      close: async () => undefined,
    };
  },
});
