// Claims twin:// as well, under another package name: loading both must fail, naming both.
import { registerDriver } from "@alfred/db-health-core";

registerDriver({
  name: "twin",
  packageName: "@acme/db-health-driver-twin",
  schemes: ["twin", "twin2"],
  createAdapter: () => {
    throw new Error("not used");
  },
});
