#!/usr/bin/env bash
# Runs a command with ODATAGW_TEST_MYSQL_DSN pointing at a reachable MySQL/MariaDB server:
#   1. ODATAGW_TEST_MYSQL_DSN when set;
#   2. else the server at 127.0.0.1:3306 (user root, no password, database test) when it answers;
#   3. else a throwaway MariaDB (mariadb-install-db + mariadbd from PATH, /usr/sbin or /usr/bin)
#      in a temp dir, on a free port, removed when the command ends.
# ODATAGW_TEST_MYSQL_THROWAWAY=1 skips 2 (to test this script).
set -euo pipefail
export ODATAGW_REQUIRE_MYSQL=1

find_bin() { # name...
  for n in "$@"; do
    if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return 0; fi
    for d in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin /usr/local/mysql/bin; do
      if [ -x "$d/$n" ]; then echo "$d/$n"; return 0; fi
    done
  done
  return 1
}

probe() { # host port
  if client="$(find_bin mariadb mysql)"; then
    "$client" --connect-timeout=3 -h "$1" -P "$2" -uroot -e 'select 1' >/dev/null 2>&1
  else
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
  fi
}

if [ -n "${ODATAGW_TEST_MYSQL_DSN:-}" ]; then
  exec "$@"
fi
if [ -z "${ODATAGW_TEST_MYSQL_THROWAWAY:-}" ] && probe 127.0.0.1 3306; then
  export ODATAGW_TEST_MYSQL_DSN="mysql://root@127.0.0.1:3306/test"
  exec "$@"
fi

installdb="$(find_bin mariadb-install-db mysql_install_db)" || true
server="$(find_bin mariadbd mysqld)" || true
if [ -z "$installdb" ] || [ -z "$server" ]; then
  echo "with-mariadb: no MySQL/MariaDB reachable and no mariadb-install-db/mariadbd found (install mariadb-server or set ODATAGW_TEST_MYSQL_DSN)" >&2
  exit 1
fi

tmp="$(mktemp -d /tmp/odatagw-my.XXXXXX)"
port="$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo 53306)"
user="$(id -un)"
if [ "$(id -u)" = 0 ] && id mysql >/dev/null 2>&1; then
  user=mysql
  chown mysql "$tmp"
fi
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
"$installdb" --no-defaults --user="$user" --datadir="$tmp/data" --auth-root-authentication-method=normal \
  --skip-test-db >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; exit 1; }
# A throwaway server for tests only: bound to 127.0.0.1, no durability,
# small buffers. root has no password; grants are on (tests create users).
"$server" --no-defaults --user="$user" --datadir="$tmp/data" --socket="$tmp/sock" --pid-file="$tmp/pid" \
  --port="$port" --bind-address=127.0.0.1 --skip-name-resolve --skip-log-bin \
  --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
  --max-connections=300 --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
  >"$tmp/server.log" 2>&1 &
pid=$!
client="$(find_bin mariadb mysql)" || { echo "with-mariadb: no mariadb client found" >&2; exit 1; }
# root@localhost (the socket) exists; TCP clients come from 127.0.0.1.
setup="CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS test;"
for i in $(seq 1 300); do
  if ! kill -0 "$pid" 2>/dev/null; then cat "$tmp/server.log" >&2; exit 1; fi
  "$client" --socket="$tmp/sock" -uroot -e "$setup" >"$tmp/setup.log" 2>&1 && break
  if [ "$i" = 300 ]; then echo "with-mariadb: server did not start" >&2; cat "$tmp/server.log" "$tmp/setup.log" >&2; exit 1; fi
  sleep 0.2
done
export ODATAGW_TEST_MYSQL_DSN="mysql://root@127.0.0.1:$port/test"
echo "with-mariadb: throwaway MariaDB on port $port" >&2
"$@"
