import { DbHealthError } from "@alfred/db-health-core";
import type * as Mssql from "mssql";
import type { MssqlSettings } from "./mssql-options.js";
import { checkSpeaksTds, type TdsEncryption } from "./tds-precheck.js";

export type MssqlModule = typeof Mssql;

// mssql (with tedious) takes ~0.2–0.5 s to load: only a target that needs it pays, on connect.
let loading: Promise<MssqlModule> | undefined;
/** The mssql module, loaded once, on the first connect. */
export function loadMssql(): Promise<MssqlModule> {
  loading ??= import("mssql").then((m) => ((m as unknown as { default?: MssqlModule }).default ?? m) as MssqlModule);
  return loading;
}

/**
 * Before tedious sends a login: checks that the port speaks TDS, and refuses to go on when
 * `encrypt=true` but the server offers no encryption. Only a known port can be checked (a named
 * instance's port comes from SQL Browser), and TDS 8 (encrypt=strict) starts with TLS instead of
 * PRELOGIN. tedious 18 with encrypt=true starts TLS only when the server answers ON or REQ; to
 * any other answer it sends the login without TLS, the password only obfuscated.
 */
export async function precheck(settings: MssqlSettings, signal: AbortSignal): Promise<void> {
  if (settings.pool.port === undefined || settings.pool.options?.encrypt === "strict") return;
  const encrypt = settings.pool.options?.encrypt === true;
  let encryption: TdsEncryption | undefined;
  ({ encryption } = await checkSpeaksTds(settings.pool.server, settings.pool.port, encrypt, signal));
  if (encrypt && encryption !== "on" && encryption !== "required") {
    const said = encryption === "not-supported" ? "offers no encryption" : `answered encryption ${encryption ?? "(none)"}`;
    throw new DbHealthError("connect", `${settings.pool.server}:${settings.pool.port} ${said} and encrypt=true: the login is not sent in the clear (encrypt=false allows it)`, { driver: "mssql" });
  }
}
