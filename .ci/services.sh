#!/usr/bin/env bash
# Makes sure the machine's PostgreSQL (127.0.0.1:5432) and MariaDB (127.0.0.1:3306) answer,
# starting them the way this kind of machine starts them when they do not. Bounded in time.
set -uo pipefail

wait_for() { # name, seconds, command…
  local name=$1 secs=$2; shift 2
  for _ in $(seq "$secs"); do "$@" >/dev/null 2>&1 && { echo "$name: up"; return 0; }; sleep 1; done
  echo "$name: not up after ${secs}s"; return 1
}

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  [ -n "$version" ] || { echo "postgresql: not installed (no cluster in /etc/postgresql)"; exit 1; }
  echo "postgresql $version: starting"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
fi
wait_for postgresql 60 pg_isready -q -h 127.0.0.1 -p 5432 || exit 1

if ! mariadb-admin ping -h 127.0.0.1 -uroot --silent >/dev/null 2>&1; then
  [ -x /usr/sbin/mariadbd ] || { echo "mariadb: not installed (/usr/sbin/mariadbd missing)"; exit 1; }
  echo "mariadb: starting"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql || true
fi
wait_for mariadb 60 mariadb-admin ping -h 127.0.0.1 -uroot --silent || exit 1
