// Two third-party plugins that both claim the twin:// scheme (with plugin-twin-b.mjs).
import { registerDriver } from "@alfred/db-health-core";

registerDriver({
  name: "twin",
  packageName: "db-health-driver-twin",
  schemes: ["twin"],
  createAdapter: () => {
    throw new Error("not used");
  },
});
