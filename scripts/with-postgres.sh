#!/usr/bin/env bash
# Runs a command with ODATAGW_TEST_DSN pointing at a reachable PostgreSQL server:
#   1. ODATAGW_TEST_DSN when set;
#   2. else the server at 127.0.0.1:5432 (user postgres, database test) when it answers;
#   3. else a throwaway cluster (initdb + pg_ctl from PATH or /usr/lib/postgresql/*/bin)
#      in a temp dir, on a free port, removed when the command ends.
set -euo pipefail
export ODATAGW_REQUIRE_PG=1

probe() { # dsn
  if command -v psql >/dev/null 2>&1; then
    PGCONNECT_TIMEOUT=3 psql "$1" -Atqc 'select 1' >/dev/null 2>&1
  else
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}

if [ -n "${ODATAGW_TEST_DSN:-}" ]; then
  exec "$@"
fi
default="postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
if probe "$default"; then
  export ODATAGW_TEST_DSN="$default"
  exec "$@"
fi

bindir=""
if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
  # resolve symlinks (e.g. /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb)
  bindir="$(dirname "$(readlink -f "$(command -v initdb)")")"
else
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then bindir="$d"; break; fi
  done
fi
if [ -z "$bindir" ]; then
  echo "with-postgres: no PostgreSQL reachable and no initdb/pg_ctl found (install postgresql or set ODATAGW_TEST_DSN)" >&2
  exit 1
fi

tmp="$(mktemp -d /tmp/odatagw-pg.XXXXXX)"
port="$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo 55432)"
run=()
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root: run the cluster as the postgres (or nobody) user.
  user=postgres; id "$user" >/dev/null 2>&1 || user=nobody
  chown "$user" "$tmp"; chmod 700 "$tmp"
  run=(runuser -u "$user" --)
fi
cleanup() {
  "${run[@]}" "$bindir/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
"${run[@]}" "$bindir/initdb" -D "$tmp/data" -U postgres --auth=trust -E UTF8 --locale=C >"$tmp/initdb.log" 2>&1 \
  || { cat "$tmp/initdb.log" >&2; exit 1; }
"${run[@]}" "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/pg.log" -w -t 60 \
  -o "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
  || { cat "$tmp/pg.log" >&2; exit 1; }
# Tests create their own databases from the cluster's "postgres" database.
export ODATAGW_TEST_DSN="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
echo "with-postgres: throwaway cluster on port $port" >&2
"$@"
