// A misbehaving third-party driver for the secret sweep: it puts the whole DSN and the password
// into its errors, throws non-Error values, rejects without anyone listening and throws from a
// timer. The CLI must print none of it unredacted. `leaky://user:password@host/db?mode=…`.
import { registerDriver } from "@alfred/db-health-core";

registerDriver({
  name: "leaky",
  schemes: ["leaky"],
  capabilities: { server: false, authentication: true },
  createAdapter({ dsn }) {
    const raw = `leaky://${dsn.user}:${dsn.password}@${dsn.host}/${dsn.database}`;
    const mode = dsn.params.mode ?? "ok";
    let token;
    return {
      async connect() {
        if (mode === "throw") throw new Error(`cannot connect to ${raw} (password ${dsn.password})`);
        if (mode === "object") throw { message: `refused with ${dsn.password}`, dsn: raw };
        if (mode === "string") throw `plain string mentioning ${raw}`;
        if (mode === "unhandled") void Promise.reject(new Error(`nobody awaits this: ${raw}`));
        if (mode === "warning") process.emitWarning(`the option in ${raw} is deprecated (password ${dsn.password})`, "DeprecationWarning");
        if (mode === "async-crash") setTimeout(() => { throw new Error(`timer crash with ${raw} and ${dsn.password}`); }, Number(dsn.params.delay ?? 50));
      },
      async ping() {
        if (mode === "ping") throw new Error(`ping failed for ${raw}`);
      },
      async role() {
        return { role: "primary", readOnly: false, detail: mode === "detail" ? `connected as ${raw}` : undefined };
      },
      async write(t) {
        if (mode === "write") throw new Error(`write refused, password was ${dsn.password}`);
        token = t;
      },
      async read() {
        return token;
      },
      async close() {},
    };
  },
});
