#!/usr/bin/env bash
# Entrypoint of the MariaDB STAND-IN image (docker/standins/mariadb), written for this project's
# image tests. It implements what the official mariadb image documents for its entrypoint, so
# the wrap image (docker/mariadb) meets the same behaviour it meets in production:
#
#   - `docker-entrypoint.sh --x=y` means `mariadbd --x=y`; any other program is just exec'd;
#   - MARIADB_<NAME>, else MYSQL_<NAME>, else the file named by <NAME>_FILE, for ROOT_PASSWORD,
#     ROOT_HOST (default %), DATABASE, USER, PASSWORD; MARIADB_ALLOW_EMPTY_ROOT_PASSWORD (or
#     MYSQL_ALLOW_EMPTY_PASSWORD); MARIADB_INITDB_SKIP_TZINFO;
#   - started as root, it prepares the data directory and the socket's, then runs again as mysql;
#   - on a data directory without a `mysql` schema: mariadb-install-db, then a temporary server
#     with --skip-networking, time zones loaded, root@ROOT_HOST, DATABASE and USER created, the
#     healthcheck users and $DATADIR/.my-healthcheck.cnf written (healthcheck.sh reads it),
#     /docker-entrypoint-initdb.d/* run in name order (*.sh executed when executable, sourced
#     otherwise; *.sql and *.sql.gz through the client), the temporary server stopped;
#   - finally the server replaces this script (exec), so it gets the container's signals.
#
# Not implemented (the tests do not use them): MARIADB_RANDOM_ROOT_PASSWORD (the official image
# prints the generated password; this project never prints one), *_PASSWORD_HASH, replication,
# upgrades, restores from backups.
set -Eeuo pipefail
shopt -s nullglob

say() { printf '%s [Note] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$*"; }
die() { printf '%s [ERROR] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$*" >&2; exit 1; }

# MARIADB_NAME from itself, MYSQL_NAME or a *_FILE of either; both names end up with the value.
maria_env() {
  local name=$1 default=${2-} value="" var
  for var in "MARIADB_$name" "MYSQL_$name"; do
    local file_var="${var}_FILE"
    [ -n "${!var-}" ] && [ -n "${!file_var-}" ] && die "both $var and $file_var are set: use one"
    if [ -z "$value" ] && [ -n "${!var-}" ]; then value=${!var}; fi
    if [ -z "$value" ] && [ -n "${!file_var-}" ]; then value=$(<"${!file_var}"); fi
    unset "$file_var"
  done
  export "MARIADB_$name=${value:-$default}" "MYSQL_$name=${value:-$default}"
}

wants_help() {
  local arg
  for arg in "$@"; do case $arg in -'?'|--help|--print-defaults|-V|--version) return 0 ;; esac; done
  return 1
}

# A server setting as mariadbd resolves it from its configuration files and arguments.
# awk reads to the end: an early exit would make mariadbd die of SIGPIPE and fail the pipeline.
server_setting() { "${@:2}" --verbose --help 2>/dev/null | awk -v key="$1" '/^[^ \t]/ && $1 == key && !found { print $2; found = 1 }'; }

# SQL string literal: backslashes and quotes escaped.
literal() { local s=${1//\\/\\\\}; printf "'%s'" "${s//\'/\\\'}"; }

client() { mariadb --protocol=socket --socket="$SOCKET" -uroot "$@"; }

start_temporary_server() {
  "$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" --wsrep_on=OFF \
    --expire-logs-days=0 --loose-innodb_buffer_pool_load_at_startup=0 &
  TEMP_PID=$!
  say "waiting for the temporary server"
  local _
  for _ in $(seq 30); do
    MYSQL_PWD="" client --database=mysql <<<'SELECT 1' &>/dev/null && return 0
    sleep 1
  done
  die "the temporary server did not start within 30 s"
}

setup_sql() {
  local root_pw health_pw
  root_pw=$(literal "$MARIADB_ROOT_PASSWORD")
  health_pw=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
  echo "SET @@SESSION.SQL_LOG_BIN=0;"
  echo "DROP USER IF EXISTS root@'127.0.0.1', root@'::1';"
  echo "EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\\'', @@hostname, '\\'');"
  echo "SET PASSWORD FOR 'root'@'localhost' = PASSWORD($root_pw);"
  if [ -n "$MARIADB_ROOT_HOST" ] && [ "$MARIADB_ROOT_HOST" != localhost ]; then
    echo "CREATE USER 'root'@'$MARIADB_ROOT_HOST' IDENTIFIED BY $root_pw;"
    echo "GRANT ALL ON *.* TO 'root'@'$MARIADB_ROOT_HOST' WITH GRANT OPTION;"
  fi
  local host
  for host in 127.0.0.1 ::1 localhost; do
    echo "CREATE USER healthcheck@'$host' IDENTIFIED BY '$health_pw'; GRANT USAGE ON *.* TO healthcheck@'$host';"
  done
  (umask 077; printf '[mariadb-client]\nport=%s\nsocket=%s\nuser=healthcheck\npassword=%s\nprotocol=tcp\n' \
    "$PORT" "$SOCKET" "$health_pw" >"$DATADIR/.my-healthcheck.cnf")
  echo "SET @@SESSION.SQL_LOG_BIN=1;"
  [ -n "$MARIADB_DATABASE" ] && echo "CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;"
  if [ -n "$MARIADB_USER" ] && [ -n "$MARIADB_PASSWORD" ]; then
    echo "CREATE USER '$MARIADB_USER'@'%' IDENTIFIED BY $(literal "$MARIADB_PASSWORD");"
    [ -n "$MARIADB_DATABASE" ] && echo "GRANT ALL ON \`${MARIADB_DATABASE//_/\\_}\`.* TO '$MARIADB_USER'@'%';"
  fi
  return 0
}

run_init_files() {
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    case $f in
      *.sh) if [ -x "$f" ]; then say "running $f"; "$f"; else say "sourcing $f"; . "$f"; fi ;;
      *.sql) say "running $f"; MYSQL_PWD=$MARIADB_ROOT_PASSWORD client ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"} <"$f" ;;
      *.sql.gz) say "running $f"; gunzip -c "$f" | MYSQL_PWD=$MARIADB_ROOT_PASSWORD client ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"} ;;
      *) say "ignoring $f" ;;
    esac
  done
}

initialise() {
  if [ -z "$MARIADB_ROOT_PASSWORD" ] && [ -z "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ]; then
    die "the database is uninitialised and no root password option is given: set MARIADB_ROOT_PASSWORD (or _FILE) or MARIADB_ALLOW_EMPTY_ROOT_PASSWORD"
  fi
  [ -n "${MARIADB_RANDOM_ROOT_PASSWORD:-${MYSQL_RANDOM_ROOT_PASSWORD-}}" ] && die "MARIADB_RANDOM_ROOT_PASSWORD is not implemented by this stand-in"
  ls /docker-entrypoint-initdb.d/ >/dev/null
  say "initialising the database files"
  mariadb-install-db --datadir="$DATADIR" --rpm --auth-root-authentication-method=normal --skip-test-db \
    --default-time-zone=SYSTEM --skip-log-bin --expire-logs-days=0 >/dev/null
  start_temporary_server "$@"
  if [ -z "$MARIADB_INITDB_SKIP_TZINFO" ]; then
    mariadb-tzinfo-to-sql --skip-write-binlog /usr/share/zoneinfo 2>/dev/null | MYSQL_PWD="" client --database=mysql
  fi
  setup_sql | MYSQL_PWD="" client --database=mysql --binary-mode
  run_init_files
  kill "$TEMP_PID"
  wait "$TEMP_PID"
  say "MariaDB init process done. Ready for start up."
}

main() {
  [ "${1:0:1}" = - ] && set -- mariadbd "$@"
  if { [ "$1" = mariadbd ] || [ "$1" = mysqld ]; } && ! wants_help "$@"; then
    DATADIR=$(server_setting datadir "$@")
    SOCKET=$(server_setting socket "$@")
    PORT=$(server_setting port "$@")
    [ -n "$DATADIR" ] || die "mariadbd cannot read its configuration: $("$@" --verbose --help 2>&1 >/dev/null | head -5)"
    maria_env ROOT_PASSWORD
    maria_env ROOT_HOST %
    maria_env DATABASE
    maria_env USER
    maria_env PASSWORD
    export MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-${MYSQL_ALLOW_EMPTY_PASSWORD-}}
    export MARIADB_INITDB_SKIP_TZINFO=${MARIADB_INITDB_SKIP_TZINFO:-${MYSQL_INITDB_SKIP_TZINFO-}}
    mkdir -p "$DATADIR" "${SOCKET%/*}"
    if [ "$(id -u)" = 0 ]; then
      find "$DATADIR" "${SOCKET%/*}" -maxdepth 0 \! -user mysql -exec chown mysql: {} +
      find "$DATADIR" \! -user mysql -exec chown mysql: {} +
      exec setpriv --reuid=mysql --regid=mysql --init-groups "$0" "$@"
    fi
    if [ -d "$DATADIR/mysql" ]; then
      say "the data directory holds a database: skipping initialisation"
    else
      initialise "$@"
    fi
  fi
  exec "$@"
}

main "$@"
