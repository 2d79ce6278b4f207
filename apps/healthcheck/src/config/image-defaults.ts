/**
 * A DSN derived from the official database images' own variables, so that the wrapper in a
 * `postgres`, `mysql` or `mariadb` container needs no configuration of its own: the variables
 * that create the database also tell the prober how to reach it over loopback TCP.
 */
import { envSecret, encodeUserinfo } from "./secrets.js";
import { quote, type Problems } from "./problems.js";

/** A target derived from image variables, with a label naming the variables it came from. */
export interface ImageTarget {
  dsn: string;
  where: string;
}

const POSTGRES_VARS = ["POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_PASSWORD_FILE", "POSTGRES_DB", "POSTGRES_HOST_AUTH_METHOD"];
const MYSQL_NAMES = ["USER", "PASSWORD", "DATABASE", "ROOT_PASSWORD", "ALLOW_EMPTY_PASSWORD", "ALLOW_EMPTY_ROOT_PASSWORD", "RANDOM_ROOT_PASSWORD"];
const MYSQL_VARS = ["MYSQL", "MARIADB"].flatMap((p) => MYSQL_NAMES.flatMap((n) => [`${p}_${n}`, `${p}_${n}_FILE`]));

/**
 * The DSN the official images' variables describe; `undefined` when none of them is set, `null`
 * when they are set but unusable (the reason was added to `problems`).
 *
 * - postgres: `POSTGRES_USER` (default `postgres`), `POSTGRES_PASSWORD`/`_FILE`, `POSTGRES_DB`
 *   (default: the user), port `PGPORT` (default 5432).
 * - mysql/mariadb: `MARIADB_*` before `MYSQL_*` (as the MariaDB image does); the app user when
 *   `*_USER` and `*_PASSWORD` are both set, else root with `*_ROOT_PASSWORD`/`_FILE` (or none when
 *   an empty root password is allowed); database `*_DATABASE`; port `MYSQL_TCP_PORT` (default 3306).
 *
 * @example
 * ```ts
 * imageDefaultTarget({ POSTGRES_PASSWORD: "pw" }, problems)?.dsn; // "postgres://postgres:pw@127.0.0.1:5432/postgres"
 * ```
 */
export function imageDefaultTarget(env: NodeJS.ProcessEnv, problems: Problems): ImageTarget | null | undefined {
  const isSet = (name: string): boolean => Boolean(env[name]);
  const postgres = POSTGRES_VARS.some(isSet);
  const mysql = MYSQL_VARS.some(isSet);
  if (postgres && mysql) {
    problems.add("image variables", "both POSTGRES_* and MYSQL_*/MARIADB_* are set; choose the database with --dsn or DB_HEALTH_DSN");
    return null;
  }
  if (postgres) return postgresTarget(env, problems) ?? null;
  if (mysql) return mysqlTarget(env, problems) ?? null;
  return undefined;
}

function postgresTarget(env: NodeJS.ProcessEnv, problems: Problems): ImageTarget | undefined {
  const user = env.POSTGRES_USER || "postgres";
  const password = envSecret(env, "POSTGRES_PASSWORD", problems);
  const db = env.POSTGRES_DB || user;
  const port = portOf(env, "PGPORT", 5432, problems);
  if (port === undefined) return undefined;
  const auth = password ? `${encodeUserinfo(user)}:${encodeUserinfo(password.value)}` : encodeUserinfo(user);
  return { dsn: `postgres://${auth}@127.0.0.1:${port}/${encodeURIComponent(db)}`, where: "POSTGRES_* (image variables)" };
}

function mysqlTarget(env: NodeJS.ProcessEnv, problems: Problems): ImageTarget | undefined {
  const where = "MYSQL_*/MARIADB_* (image variables)";
  // The MariaDB image reads MARIADB_X first and falls back to MYSQL_X.
  const pick = (name: string): string | undefined => env[`MARIADB_${name}`] || env[`MYSQL_${name}`] || undefined;
  const secret = (name: string) => envSecret(env, `MARIADB_${name}`, problems) ?? envSecret(env, `MYSQL_${name}`, problems);
  const appUser = pick("USER");
  const appPassword = appUser === undefined ? undefined : secret("PASSWORD");
  let user: string;
  let password: string | undefined;
  if (appUser !== undefined && appPassword !== undefined) {
    user = appUser;
    password = appPassword.value;
  } else {
    user = "root";
    password = secret("ROOT_PASSWORD")?.value;
    const emptyAllowed = pick("ALLOW_EMPTY_ROOT_PASSWORD") ?? pick("ALLOW_EMPTY_PASSWORD");
    if (password === undefined && !emptyAllowed) {
      problems.add(where, "no password to log in with: set MYSQL_USER and MYSQL_PASSWORD (or the MARIADB_ forms), or MYSQL_ROOT_PASSWORD, or DB_HEALTH_DSN");
      return undefined;
    }
  }
  const db = pick("DATABASE");
  if (db === undefined) {
    problems.add(where, "MYSQL_DATABASE (or MARIADB_DATABASE) is not set: the health table needs a database; set it, or DB_HEALTH_DSN");
    return undefined;
  }
  const port = portOf(env, "MYSQL_TCP_PORT", 3306, problems);
  if (port === undefined) return undefined;
  const auth = password ? `${encodeUserinfo(user)}:${encodeUserinfo(password)}` : encodeUserinfo(user);
  return { dsn: `mysql://${auth}@127.0.0.1:${port}/${encodeURIComponent(db)}`, where };
}

function portOf(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: Problems): number | undefined {
  const text = env[name];
  if (!text) return fallback;
  const port = /^\d{1,5}$/.test(text.trim()) ? Number(text) : NaN;
  if (port >= 1 && port <= 65535) return port;
  problems.add(name, `must be a port number from 1 to 65535, got ${quote(text, 20)}`);
  return undefined;
}
