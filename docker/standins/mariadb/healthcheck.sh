#!/usr/bin/env bash
# healthcheck.sh of the MariaDB STAND-IN image (docker/standins/mariadb), for the tests that pass
# the official image's own check (`healthcheck.sh --connect --innodb_initialized`, as
# docker/docker-compose.db.yml does). Only those two tests are implemented:
#   --connect             the server accepts TCP connections (refused credentials count as
#                         connected; the entrypoint's temporary server has no networking);
#   --innodb_initialized  InnoDB is available (crash recovery done).
# It logs in as the `healthcheck` user whose credentials the entrypoint wrote to
# $DATADIR/.my-healthcheck.cnf. Exit 0 when every test passes, 1 otherwise.
set -uo pipefail

datadir=/var/lib/mysql
cnf=$datadir/.my-healthcheck.cnf
ask() { mariadb --defaults-extra-file="$cnf" --skip-ssl --batch --skip-column-names "$@" 2>&1; }

connect() {
  local out
  out=$(ask --protocol=tcp -h 127.0.0.1 -e 'SELECT @@skip_networking')
  case $out in
    0|ERROR\ 1045*|ERROR\ 1[0-9][0-9][0-9]\ \(28000\)*) return 0 ;;
    *) return 1 ;;
  esac
}

innodb_initialized() {
  [ "$(ask --protocol=socket -e "SELECT 1 FROM information_schema.ENGINES WHERE engine = 'innodb' AND support IN ('YES', 'DEFAULT', 'ENABLED')")" = 1 ]
}

[ $# -gt 0 ] || { echo "healthcheck.sh: name at least one test: --connect, --innodb_initialized" >&2; exit 1; }
[ -r "$cnf" ] || { echo "healthcheck.sh: $cnf not written yet (the entrypoint has not finished)" >&2; exit 1; }
for arg in "$@"; do
  case $arg in
    --connect) connect || { echo "healthcheck.sh: connect failed" >&2; exit 1; } ;;
    --innodb_initialized) innodb_initialized || { echo "healthcheck.sh: innodb_initialized failed" >&2; exit 1; } ;;
    *) echo "healthcheck.sh: $arg is not implemented by this stand-in" >&2; exit 1 ;;
  esac
done
exit 0
