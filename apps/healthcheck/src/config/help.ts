/**
 * The parts of `healthcheck --help` that are not one option each: commands, where settings come
 * from, the YAML file, image variables, exit codes and examples. Kept beside the option table so
 * that docs/cli.md can quote `--help` verbatim.
 */
import { DISCOVERY_LIMITS } from "../discovery/discovery-limits.js";
import { FILE_LIMITS, formatBytes, formatCount as count, MAX_TARGETS, YAML_LIMITS } from "./limits.js";

const size = (kind: keyof typeof FILE_LIMITS): string => formatBytes(FILE_LIMITS[kind].bytes);

/** Shown under the usage line. */
export const DESCRIPTION = "Probe databases (connect, ping, write a row, read it back) and export the results to Prometheus.";

/** The usage line after `healthcheck`. */
export const USAGE = "[options] [command] [-- program [args...]]";

/**
 * Appended after the option list.
 *
 * @example
 * ```ts
 * program.addHelpText("after", HELP_AFTER);
 * ```
 */
export const HELP_AFTER = `
Commands:
  (none)              daemon: probe every target on its interval and serve /metrics, /probe?target=NAME,
                      /probe?module=NAME&target=HOST:PORT[/DB] (modules: below), /healthz, /readyz
                      and /health on --export-prom
  config check FILE   validate FILE together with the environment and flags, without connecting;
                      exit 0 when valid, 3 when not
  status [URL]        ask a running healthcheck whether it is ready (a cheap Docker HEALTHCHECK); URL
                      defaults to http://127.0.0.1:9091/readyz, or the port of --export-prom /
                      DB_HEALTH_LISTEN / listen:; exit 0 ready, 1 not
  -- program args...  wrapper: start the program (e.g. the image's entrypoint) with this terminal and
                      probe beside it; signals are forwarded and healthcheck exits with the program's
                      code (128 + signal when it was killed). Not with --once.

Where settings come from (the first that sets a value wins):
  1. flags                  e.g. --read-timeout 1s
  2. environment variables  e.g. DB_HEALTH_READ_TIMEOUT=1s
  3. the YAML file          --config FILE or DB_HEALTH_CONFIG: a target's own keys, then the file's defaults:
  4. built-in defaults      shown above
  Flags and variables override a setting for every target, and only when given. The targets
  themselves come from the first source that names any: --dsn, else DB_HEALTH_DSN(_FILE), else
  targets: in the file, else the official image variables below. Plugins from all sources add up.

YAML file (relative paths are relative to the file):
  listen: ":9091"                  # also webConfig, logLevel, probeCacheInterval, legacyMetrics,
                                   # runtimeMetrics, durationBuckets, telemetryPath,
                                   # timeoutOffset
  plugins: ["@acme/db-health-driver-cockroach"]
  defaults:                        # any target setting except dsn, name and cluster
    interval: 30s
    thresholds: { readLatency: 500ms }
  targets:
    - name: orders
      dsn: postgres://app@orders-db:5432/orders
      passwordFile: /run/secrets/orders-password   # spliced into the DSN, URL-encoded
      readTimeout: 1s
      cluster: main                # members of one cluster: more than 1 primary is degraded
    - name: shop
      dsnFile: /run/secrets/shop-dsn               # the whole DSN from a file
  modules:                         # discovered targets: /probe?module=pg&target=10.1.2.3:5432/app
    pg:
      engine: postgres             # the DSN scheme
      user: db_health
      passwordFile: /run/secrets/pg-password       # the only way to give a module a password
      database: app                # when the target names none
      params: { sslmode: verify-full, sslrootcert: /etc/ssl/db-ca.pem }
      allow:                       # anything else is 403, never connected to, never resolved
        cidrs: [10.0.0.0/8]        # addresses a target may be
        hosts: [orders-db.prod]    # names a target may be, exactly as written
        ports: [5432]              # default: the engine's port
        databases: [app, "*"]      # default: only database
      settings: { connectTimeout: 2s }             # target settings except interval
  Target settings: dsn, name, role, cluster, connectTimeout, readTimeout, writeTimeout, maxRetries,
  retryInterval, interval, createHealthTable, writeCheck, connection, thresholds (pingLatency,
  readLatency, writeLatency), maxReplicationLag, probeId, healthTable, schema, pruneAfter;
  durations as 500ms, 2s, 1m30s. thresholds, maxReplicationLag, healthTable and schema are YAML only;
  cluster (targets sharing it are one cluster: 2 primaries make them degraded) only under targets:.

Secrets: DB_HEALTH_DSN_FILE, POSTGRES_PASSWORD_FILE, MYSQL_PASSWORD_FILE, MYSQL_ROOT_PASSWORD_FILE,
MARIADB_PASSWORD_FILE and MARIADB_ROOT_PASSWORD_FILE name a file whose content (one trailing newline
dropped) is the value of the variable without _FILE; setting both is an error.

With no target anywhere, the DSN comes from the official images' variables (127.0.0.1):
  postgres       POSTGRES_USER (postgres), POSTGRES_PASSWORD(_FILE), POSTGRES_DB (the user), PGPORT (5432)
  mysql/mariadb  MARIADB_* or MYSQL_*: USER + PASSWORD(_FILE), else root with ROOT_PASSWORD(_FILE);
                 DATABASE (required); MYSQL_TCP_PORT (3306)

A flag the mode does not use (--format or --degraded-ok without --once, a daemon flag with --once,
a target flag with status) is an invalid configuration; variables and YAML keys never are. The
exporter toolkit's --web.listen-address and --web.config.file are accepted for --export-prom and
--web-config; giving both spellings of one setting is an invalid configuration.

Limits: files must be regular files (not a FIFO or a device) of at most ${size("secret")} for secrets, ${size("config")}
for the YAML file, ${size("webConfig")} for the web config and ${size("pem")} for each of its PEM files; at most
${count(MAX_TARGETS)} targets; YAML nested at most ${YAML_LIMITS.depth} levels, ${YAML_LIMITS.mappingKeys} keys per mapping, ${count(YAML_LIMITS.entries)} keys and list
entries in all. At most ${count(DISCOVERY_LIMITS.maxTargets)} discovered targets held (the least recently used makes way), each
closed after ${DISCOVERY_LIMITS.idleMs / 60_000} minutes without a /probe.

Exit codes: 0 up (or valid, or ready), 1 down or degraded (--degraded-ok: degraded is 0),
3 invalid configuration (nothing was probed); in wrapper mode, the program's code. Never 2.
A stop signal during start-up ends the process at once: the daemon exits 0, the wrapper
128 + signal (the program is never started), --once, config check and status exit 1.

Examples:
  healthcheck --once --dsn postgres://app@db:5432/app
  healthcheck --once --format json --dsn "mysql://app@tcp(db:3306)/shop" --dsn file:/data/app.db
  healthcheck --config /etc/healthcheck.yaml --log-level debug
  healthcheck --export-prom :9091 -- docker-entrypoint.sh postgres
  healthcheck config check /etc/healthcheck.yaml
  HEALTHCHECK CMD ["healthcheck", "status"]
`;
