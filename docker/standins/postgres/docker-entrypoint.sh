#!/usr/bin/env bash
# Entrypoint of the PostgreSQL STAND-IN image (docker/standins/postgres), written for this
# project's image tests. It implements what the official postgres image documents for its
# entrypoint, so the wrap image (docker/postgres) meets the same behaviour it meets in production:
#
#   - `docker-entrypoint.sh -c x=y` means `postgres -c x=y`; any other program is just exec'd;
#   - POSTGRES_PASSWORD, POSTGRES_USER (default postgres), POSTGRES_DB (default the user),
#     POSTGRES_INITDB_ARGS, each also from a file named by <NAME>_FILE; POSTGRES_HOST_AUTH_METHOD
#     for the `host all all all` line (default: the server's password_encryption);
#   - started as root, it prepares PGDATA and the socket directory, then runs again as postgres;
#   - on an empty PGDATA: initdb, then a temporary server that listens on the unix socket only,
#     POSTGRES_DB created, /docker-entrypoint-initdb.d/* run in name order (*.sh executed when
#     executable, sourced otherwise; *.sql and *.sql.gz through psql), the temporary server
#     stopped; on a PGDATA that holds a database, none of this;
#   - finally the server replaces this script (exec), so it gets the container's signals.
set -Eeuo pipefail

say() { printf 'docker-entrypoint.sh: %s\n' "$*"; }
die() { printf 'docker-entrypoint.sh: error: %s\n' "$*" >&2; exit 1; }

# NAME from $NAME or from the file named by $NAME_FILE (Docker secrets), never both.
from_env_or_file() {
  local name=$1 default=${2-} file_var="${1}_FILE"
  local value=${!name-} file=${!file_var-}
  [ -n "$value" ] && [ -n "$file" ] && die "both $name and $file_var are set: use one"
  if [ -n "$file" ]; then value=$(<"$file"); elif [ -z "$value" ]; then value=$default; fi
  export "$name=$value"
  unset "$file_var"
}

wants_help() {
  local arg
  for arg in "$@"; do case $arg in -'?'|--help|--describe-config|-V|--version) return 0 ;; esac; done
  return 1
}

run_sql() { psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --username "$POSTGRES_USER" "$@"; }

run_init_files() {
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case $f in
      *.sh) if [ -x "$f" ]; then say "running $f"; "$f"; else say "sourcing $f"; . "$f"; fi ;;
      *.sql) say "running $f"; run_sql --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) say "running $f"; gunzip -c "$f" | run_sql --dbname "$POSTGRES_DB" ;;
      *) say "ignoring $f" ;;
    esac
  done
}

initialise() {
  if [ -z "$POSTGRES_PASSWORD" ] && [ "${POSTGRES_HOST_AUTH_METHOD-}" != trust ]; then
    die "the database is uninitialised and no superuser password is given: set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE), or POSTGRES_HOST_AUTH_METHOD=trust"
  fi
  # Fails here, before initdb, if the directory is unreadable: no half-initialised PGDATA.
  ls /docker-entrypoint-initdb.d/ >/dev/null
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words, as in the official image
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
  local method=${POSTGRES_HOST_AUTH_METHOD:-$(postgres -C password_encryption)}
  printf '\nhost all all all %s\n' "$method" >>"$PGDATA/pg_hba.conf"

  export PGPASSWORD=$POSTGRES_PASSWORD
  shift # "postgres": pg_ctl starts the server binary itself
  pg_ctl -D "$PGDATA" -w start -o "$(printf '%q ' "$@" -c listen_addresses= -p "${PGPORT:-5432}")"
  if [ -z "$(run_sql --dbname postgres --tuples-only --set db="$POSTGRES_DB" <<<"SELECT 1 FROM pg_database WHERE datname = :'db'")" ]; then
    run_sql --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db"'
  fi
  run_init_files
  pg_ctl -D "$PGDATA" -m fast -w stop
  unset PGPASSWORD
  say "PostgreSQL init process complete; ready for start up."
}

main() {
  [ "${1:0:1}" = - ] && set -- postgres "$@"
  if [ "$1" = postgres ] && ! wants_help "$@"; then
    from_env_or_file POSTGRES_PASSWORD
    from_env_or_file POSTGRES_USER postgres
    from_env_or_file POSTGRES_DB "$POSTGRES_USER"
    from_env_or_file POSTGRES_INITDB_ARGS
    mkdir -p "$PGDATA" /var/run/postgresql
    chmod 0700 "$PGDATA" || true
    if [ "$(id -u)" = 0 ]; then
      find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres: {} +
      exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
    fi
    if [ -s "$PGDATA/PG_VERSION" ]; then
      say "PGDATA holds a database: skipping initialisation"
    else
      initialise "$@"
    fi
  fi
  exec "$@"
}

main "$@"
