#!/usr/bin/env bash
# bench/mysql/run.sh: W1 and W2 (bench/README.md) of odatagw on MySQL/MariaDB,
# against the server's own rate for the same SQL (mariadb-slap, same number of
# clients). Load the data first: bench/mysql/load.sh.
#
#   BENCH_DURATION [15s]  BENCH_CONNECTIONS [8]  BENCH_THREADS [2]  BENCH_BUILD [1]
#   BENCH_MY_HOST [127.0.0.1]  BENCH_MY_PORT [3306]  BENCH_MY_USER [root]  BENCH_MY_DB [odatagw_bench]
#   BENCH_SLAP_W1 [400]  BENCH_SLAP_W2 [40000]   queries per mariadb-slap run
# Results: bench/results/mysql-latest.md
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
DURATION="${BENCH_DURATION:-15s}" CONNS="${BENCH_CONNECTIONS:-8}" THREADS="${BENCH_THREADS:-2}"
HOST="${BENCH_MY_HOST:-127.0.0.1}" PORT="${BENCH_MY_PORT:-3306}" USER_="${BENCH_MY_USER:-root}" DB="${BENCH_MY_DB:-odatagw_bench}"
WORK="$BENCH_DIR/.work/mysql"
mkdir -p "$WORK" "$BENCH_DIR/results"
slap="$(command -v mariadb-slap || command -v mysqlslap)"
for tool in wrk jq curl "$slap"; do command -v "$tool" >/dev/null || { echo "mysql-bench: $tool missing" >&2; exit 1; }; done
[ "${BENCH_BUILD:-1}" = 1 ] && make -C "$REPO" --no-print-directory build >/dev/null

declare -A URL=(
  [W1]="/odata/orders?\$select=order_id,customer_id,order_date,status,total&\$filter=status%20eq%20'Open'&\$orderby=order_id"
  [W2]="/odata/customers('C0012345')"
)
declare -A SLAPN=([W1]="${BENCH_SLAP_W1:-400}" [W2]="${BENCH_SLAP_W2:-40000}")

gw_pid=""
stop_gw() { if [ -n "$gw_pid" ]; then kill "$gw_pid" 2>/dev/null || true; wait "$gw_pid" 2>/dev/null || true; gw_pid=""; fi; }
trap stop_gw EXIT
start_gw() { # log-level
  gw_port="$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"
  printf 'guard:\n  rate_per_second: -1\n' >"$WORK/odatagw.yaml"
  ODATAGW_DB="mysql://$USER_${MYSQL_PWD:+:$MYSQL_PWD}@$HOST:$PORT/$DB" "$REPO/bin/odatagw" serve --config "$WORK/odatagw.yaml" \
    --listen "127.0.0.1:$gw_port" --log-level "$1" --log-format json >"$WORK/odatagw-$1.log" 2>&1 &
  gw_pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$gw_port/odata/" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "mysql-bench: gateway did not start" >&2; cat "$WORK/odatagw-$1.log" >&2; exit 1
}

# 1. Capture the SQL the gateway runs for each workload (debug log), with
#    the arguments as literals, identifiers in backticks for the client.
start_gw debug
declare -A SQL
for w in W1 W2; do
  before=$(wc -l <"$WORK/odatagw-debug.log")
  rows=$(curl -fs "http://127.0.0.1:$gw_port${URL[$w]}" | jq 'if .value then (.value | length) else 1 end')
  sleep 0.2
  SQL[$w]="$(tail -n +"$((before + 1))" "$WORK/odatagw-debug.log" | jq -r 'select(.sql != null) | . as $l
    | ($l.sql | gsub("\""; "`") | split("?")) as $p
    | reduce range(1; $p | length) as $i ($p[0]; . + (($l.args[$i - 1]) as $a
        | if ($a | type) == "string" then "'"'"'" + ($a | gsub("'"'"'"; "'"'"''"'"'")) + "'"'"'" else ($a | tostring) end) + $p[$i])' | tail -1)"
  echo "mysql-bench: $w returns $rows rows; SQL: ${SQL[$w]}"
  printf '%s;\n' "${SQL[$w]}" >"$WORK/$w.sql"
done
stop_gw

# 2. The gateway over HTTP.
start_gw info
declare -A GW
for w in W1 W2; do
  wrk -t"$THREADS" -c"$CONNS" -d1s "http://127.0.0.1:$gw_port${URL[$w]}" >/dev/null
  GW[$w]=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$gw_port${URL[$w]}" | awk '/Requests\/sec/ {print $2}')
done
stop_gw

# 3. The server's own rate for the same SQL, same number of clients.
declare -A DBR
for w in W1 W2; do
  secs=$("$slap" -h "$HOST" -P "$PORT" -u "$USER_" --create-schema="$DB" --concurrency="$CONNS" --iterations=1 \
    --number-of-queries="${SLAPN[$w]}" --query="${SQL[$w]}" | awk '/Average number of seconds/ {print $(NF-1)}')
  DBR[$w]=$(awk -v n="${SLAPN[$w]}" -v s="$secs" 'BEGIN { printf "%.1f", (s > 0 ? n / s : 0) }')
done

version=$("$(command -v mariadb || command -v mysql)" -h "$HOST" -P "$PORT" -u "$USER_" -N -e 'SELECT VERSION()')
{
  echo "# odatagw on MySQL/MariaDB: W1/W2 ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "Server $version, $CONNS clients, $DURATION per gateway run, $(nproc) cores. The database's rate is"
  echo "mariadb-slap running the gateway's captured SQL (text protocol, literals) with the same clients."
  echo
  echo "| workload | odatagw req/s | database q/s | odatagw/DB |"
  echo "|---|---|---|---|"
  for w in W1 W2; do
    echo "| $w | ${GW[$w]} | ${DBR[$w]} | $(awk -v a="${GW[$w]}" -v b="${DBR[$w]}" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }') |"
  done
  echo
  echo "SQL:"
  echo
  for w in W1 W2; do echo "* $w: \`${SQL[$w]}\`"; done
} | tee "$BENCH_DIR/results/mysql-latest.md"
