import { describe, expect, it } from "vitest";
import { crashMessage, rememberSecrets } from "./crash.js";

describe("crash reports", () => {
  it("redact DSN passwords, remembered literals and password-like variables, in one line", () => {
    rememberSecrets(["postgres://app:Lit3ral-pw@db:5432/app"], { PGPASSWORD: "from-env-pw", HOME: "/root", PGPASSWORD_FILE: "/run/secrets/pw" });
    const err = new Error("boom: Lit3ral-pw\n  and from-env-pw, at postgres://x:other@h/db");
    expect(crashMessage(err)).toBe("boom: *** and ***, at postgres://x:***@h/db");
    expect(crashMessage({ message: "object with Lit3ral-pw" })).toBe("object with ***");
    expect(crashMessage("a string with from-env-pw")).toBe("a string with ***");
    // a file name is not a secret; HOME is not password-like
    expect(crashMessage("/run/secrets/pw /root")).toBe("/run/secrets/pw /root");
  });

  it("take password-like variables by their name's ending, not the working directory", () => {
    rememberSecrets([], { PWD: "/app", OLDPWD: "/srv", MYSQL_PWD: "my-pwd-value", DB_SECRET: "s3cr3t-v", PASSWORDLESS: "yes-v" });
    expect(crashMessage("at /app/node_modules/x with my-pwd-value and s3cr3t-v, /srv, yes-v")).toBe("at /app/node_modules/x with *** and ***, /srv, yes-v");
  });
});
